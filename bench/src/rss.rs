//! Resident memory of a server: the process and every process below it (for `socket dev`, the
//! emulator and its workers; for the peers, whatever they spawn per invocation).

use std::collections::HashMap;
use std::fs;

/// Sum of `VmRSS` in KiB over `root` and all its descendants; `None` when `root` is gone.
pub fn tree_rss_kib(root: u32) -> Option<u64> {
    let parents = parent_map();
    let mut total = rss_kib(root)?;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for (&child, &parent) in &parents {
            if parent == pid {
                total += rss_kib(child).unwrap_or(0);
                stack.push(child);
            }
        }
    }
    Some(total)
}

/// Number of processes in the tree rooted at `root` (the root included).
pub fn tree_size(root: u32) -> usize {
    let parents = parent_map();
    let mut count = 1;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for (&child, &parent) in &parents {
            if parent == pid {
                count += 1;
                stack.push(child);
            }
        }
    }
    count
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

/// `VmRSS:     1234 kB` → 1234. Kernel threads have no such line.
fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// pid → parent pid for every process visible in /proc.
fn parent_map() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return map;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| parse_ppid(&stat))
        {
            map.insert(pid, ppid);
        }
    }
    map
}

/// The parent pid from `/proc/PID/stat`: the second field after the command name, which is in
/// parentheses and may itself contain spaces and parentheses.
fn parse_ppid(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ppid_past_odd_command_names() {
        assert_eq!(parse_ppid("42 (my (odd) cmd) S 7 42 42 0"), Some(7));
    }

    #[test]
    fn parses_vm_rss() {
        assert_eq!(parse_vm_rss("Name:\tx\nVmRSS:\t    2048 kB\n"), Some(2048));
        assert_eq!(parse_vm_rss("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn own_tree_includes_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id();
        let alone = rss_kib(me).unwrap();
        assert!(tree_rss_kib(me).unwrap() > alone, "child's RSS is counted");
        assert!(tree_size(me) >= 2);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
