//! `socket completions bash`, sourced by a real bash, completes the subcommands.

use std::process::Command;

#[test]
fn bash_completion_offers_the_subcommands() {
    let out = Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("socket.bash");
    std::fs::write(&script, &out.stdout).unwrap();

    // What bash does on `socket <TAB>` and `socket pa<TAB>`: set COMP_* and call the function
    // that `complete -p socket` names.
    let session = r#"
        source "$1"
        registered=$(complete -p socket) || exit 3
        echo "registered: $registered"
        function=$(sed -E 's/.*-F ([^ ]+).*/\1/' <<<"$registered")
        ask() {
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            "$function" socket "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            echo "$1 ${COMP_WORDS[COMP_CWORD]}: ${COMPREPLY[*]}"
        }
        ask socket ""
        ask socket pa
    "#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", session, "bash"])
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("registered: complete ") && stdout.contains(" -F _socket socket"),
        "{stdout}"
    );
    let offered = |prefix: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("socket {prefix}:")))
            .unwrap_or_else(|| panic!("no completion for `{prefix}`:\n{stdout}"));
        line.split(':')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let all = offered("");
    for command in [
        "deploy",
        "info",
        "remove",
        "dev",
        "package",
        "credentials",
        "init",
        "completions",
    ] {
        assert!(
            all.iter().any(|c| c == command),
            "`{command}` not offered: {all:?}"
        );
    }
    assert_eq!(offered("pa"), vec!["package".to_string()]);
}
