//! The open-file limit: holding 10,000 WebSockets takes 10,000 descriptors in the client, more
//! than the usual soft limit of 1024, so the bench raises its own soft limit to the hard one.

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns `(soft, hard)` after the change.
pub fn raise_soft_limit() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// The soft open-file limit of another process (`Max open files` in `/proc/PID/limits`).
pub fn soft_limit_of(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_limit_after_raising_it() {
        let (soft, hard) = super::raise_soft_limit().unwrap();
        assert_eq!(soft, hard);
        assert_eq!(super::soft_limit_of(std::process::id()), Some(soft));
    }
}
