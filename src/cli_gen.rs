//! Shell completions and man pages generated from the clap definition (`cli::Cli`):
//! `lambdabox completions SHELL` and `lambdabox man [--out-dir DIR]`. The .deb ships their
//! output (`packaging/build-deb` runs both), so what a shell completes and what `man` says are
//! always the flags this binary parses.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script of `shell` for the `lambdabox` command.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "lambdabox", out);
}

/// The command as the man pages describe it: built (subcommand names resolved), without the
/// `help` subcommand (it has no page of its own).
fn documented() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// lambdabox(1): the main page, listing the subcommands.
pub fn man_page(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(documented()).render(out)
}

/// Writes lambdabox.1 and one page per visible subcommand (lambdabox-serve.1,
/// lambdabox-keys-create.1, …) into `dir`, returning the files written.
pub fn man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    write_pages(documented(), dir, &mut written)?;
    Ok(written)
}

fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    written.push(clap_mangen::Man::new(cmd).generate_to(dir)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn completions_name_the_subcommands_and_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let s = script(shell);
            // fish names long flags without their dashes (`-l listen`)
            let flags = match shell {
                Shell::Fish => ["-l data-dir", "-l listen"],
                _ => ["--data-dir", "--listen"],
            };
            for word in ["serve", "backup", "doctor"].into_iter().chain(flags) {
                assert!(s.contains(word), "{shell} completion lacks {word}");
            }
        }
        assert!(script(Shell::Bash).contains("complete -F"));
        assert!(script(Shell::Zsh).starts_with("#compdef lambdabox"));
        assert!(script(Shell::Fish).contains("complete -c lambdabox"));
    }

    #[test]
    fn man_pages_cover_every_visible_subcommand() {
        let mut main = Vec::new();
        assert!(man_page(&mut main).is_ok());
        let main = String::from_utf8(main).unwrap_or_default();
        assert!(
            main.starts_with(".ie \\n(.g .ds Aq"),
            "{}",
            &main[..80.min(main.len())]
        );
        assert!(main.contains(".TH lambdabox 1"));
        assert!(main.contains("lambdabox\\-serve(1)"));
        assert!(!main.contains("operations"), "hidden subcommands stay out");

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let files = man_pages(dir.path()).unwrap_or_default();
        let names: Vec<String> = files
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        for page in [
            "lambdabox.1",
            "lambdabox-serve.1",
            "lambdabox-keys.1",
            "lambdabox-keys-create.1",
            "lambdabox-completions.1",
        ] {
            assert!(names.iter().any(|n| n == page), "{page} not in {names:?}");
        }
        assert!(!names
            .iter()
            .any(|n| n.contains("help") || n.contains("operations")));
        let serve =
            std::fs::read_to_string(dir.path().join("lambdabox-serve.1")).unwrap_or_default();
        assert!(serve.contains("\\-\\-listen"));
    }
}
