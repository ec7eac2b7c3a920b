//! AWS Lambda's published on-demand prices (us-east-1 list prices, the reference's §11), for
//! lambdabox's cost estimate: what the same usage would cost on AWS. Requests are $0.20 per
//! million; duration is billed in GB-seconds (memory size in GB × billed duration), in
//! monthly tiers per architecture; the permanent free tier (1M requests and 400,000 GB-s a
//! month, shared by both architectures) is applied to x86_64 duration first, then arm64.

/// USD per request.
pub const PER_REQUEST: f64 = 0.20 / 1_000_000.0;
/// Free requests per month.
pub const FREE_REQUESTS: u64 = 1_000_000;
/// Free GB-seconds per month.
pub const FREE_GB_S: f64 = 400_000.0;

/// (GB-seconds in the tier, USD per GB-second); the last tier is unbounded.
const X86_TIERS: &[(f64, f64)] = &[
    (6e9, 0.000_016_666_7),
    (9e9, 0.000_015),
    (f64::INFINITY, 0.000_013_333_4),
];
const ARM_TIERS: &[(f64, f64)] = &[
    (7.5e9, 0.000_013_333_4),
    (11.25e9, 0.000_012_000_1),
    (f64::INFINITY, 0.000_010_666_7),
];

/// The two architectures Lambda prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86,
    Arm,
}

impl Arch {
    /// From the `Architectures` value (`arm64`; anything else is x86_64).
    pub fn of(name: &str) -> Arch {
        if name == "arm64" {
            Arch::Arm
        } else {
            Arch::X86
        }
    }

    fn tiers(self) -> &'static [(f64, f64)] {
        match self {
            Arch::X86 => X86_TIERS,
            Arch::Arm => ARM_TIERS,
        }
    }

    /// USD per GB-second in the first tier (the price of a day's or a function's share).
    pub fn first_tier(self) -> f64 {
        self.tiers()[0].1
    }
}

/// GB-seconds of `mb_ms` (memory MB × billed ms).
pub fn gb_seconds(mb_ms: u64) -> f64 {
    mb_ms as f64 / 1024.0 / 1000.0
}

/// USD for `gb_s` GB-seconds in one month, through the tiers of `arch`.
pub fn duration_usd(arch: Arch, gb_s: f64) -> f64 {
    let mut left = gb_s.max(0.0);
    let mut usd = 0.0;
    for (size, price) in arch.tiers() {
        let here = left.min(*size);
        usd += here * price;
        left -= here;
        if left <= 0.0 {
            break;
        }
    }
    usd
}

/// A month's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub x86_gb_s: f64,
    pub arm_gb_s: f64,
}

/// A month's bill.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Bill {
    /// Without the free tier.
    pub list_usd: f64,
    pub free_requests: u64,
    pub free_gb_s: f64,
    /// After the free tier.
    pub due_usd: f64,
}

/// What `u` costs in one month, before and after the free tier.
pub fn month(u: Usage) -> Bill {
    let list_usd = u.requests as f64 * PER_REQUEST
        + duration_usd(Arch::X86, u.x86_gb_s)
        + duration_usd(Arch::Arm, u.arm_gb_s);
    let free_requests = u.requests.min(FREE_REQUESTS);
    let free_x86 = u.x86_gb_s.min(FREE_GB_S);
    let free_arm = u.arm_gb_s.min(FREE_GB_S - free_x86);
    let due_usd = (u.requests - free_requests) as f64 * PER_REQUEST
        + duration_usd(Arch::X86, u.x86_gb_s - free_x86)
        + duration_usd(Arch::Arm, u.arm_gb_s - free_arm);
    Bill {
        list_usd,
        free_requests,
        free_gb_s: free_x86 + free_arm,
        due_usd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn the_reference_example_prices_as_aws_says() {
        // 512 MB × 300 ms, 1M times: 150,000 GB-s ≈ $2.50 + $0.20 requests.
        let gb_s = gb_seconds(512 * 300) * 1e6;
        assert!(close(gb_s, 150_000.0), "{gb_s}");
        let b = month(Usage {
            requests: 1_000_000,
            x86_gb_s: gb_s,
            arm_gb_s: 0.0,
        });
        assert!(close(b.list_usd, 2.500_005 + 0.20), "{}", b.list_usd);
        assert_eq!(b.free_requests, 1_000_000);
        assert!(close(b.free_gb_s, 150_000.0));
        assert_eq!(b.due_usd, 0.0);
    }

    #[test]
    fn tiers_and_the_shared_free_tier() {
        assert!(close(
            duration_usd(Arch::X86, 7e9),
            6e9 * 0.000_016_666_7 + 1e9 * 0.000_015
        ));
        assert!(close(duration_usd(Arch::Arm, 1.0), 0.000_013_333_4));
        let b = month(Usage {
            requests: 3_000_000,
            x86_gb_s: 300_000.0,
            arm_gb_s: 200_000.0,
        });
        assert!(close(b.free_gb_s, 400_000.0));
        let want = 2_000_000.0 * PER_REQUEST + 100_000.0 * 0.000_013_333_4;
        assert!(close(b.due_usd, want), "{} vs {want}", b.due_usd);
        assert_eq!(Arch::of("arm64"), Arch::Arm);
        assert_eq!(Arch::of("x86_64"), Arch::X86);
    }
}
