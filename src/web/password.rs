//! Password hashing (argon2id with the crate's default cost, a PHC string per user) and
//! generated passwords. Hashing takes tens of milliseconds on purpose: callers run it on a
//! blocking thread.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;

/// Shortest password the dashboard accepts.
pub const MIN_LEN: usize = 10;

/// The PHC string of `password`.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash a password: {e}"))
}

/// True if `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that a wrong username costs
/// as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash("not a real password").unwrap_or_default())
}

/// A random password of 20 letters and digits (≈ 119 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Why a new password is not acceptable, in plain words.
pub fn check_new(password: &str, confirm: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("Use at least {MIN_LEN} characters."));
    }
    if password.len() > 1024 {
        return Err("Use at most 1024 characters.".into());
    }
    if password != confirm {
        return Err("The two passwords are not the same.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("x", "not a phc string"));
        assert_eq!(generate().len(), 20);
        assert!(check_new("short", "short").is_err());
        assert!(check_new("long enough!", "long enough?").is_err());
        assert!(check_new("long enough!", "long enough!").is_ok());
    }
}
