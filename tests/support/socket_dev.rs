//! Starting the real `socket dev` (the `socket` binary built once per test run) on an example
//! project, reading what it prints, and stopping it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::workspace::{example_binary, socket_binary, workspace_root};

/// A running `socket dev`.
pub struct SocketDev {
    child: Child,
    /// `ws://127.0.0.1:<port>/<stage>`
    pub ws_url: String,
    /// `http://127.0.0.1:<port>/<stage>/@connections`
    pub management_url: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl SocketDev {
    /// `socket dev --port 0` on `examples/echo`, running the echo handler the tests built (so
    /// tests do not queue on cargo's lock), plus `extra` arguments.
    pub fn echo(extra: &[&str]) -> SocketDev {
        SocketDev::example("echo", extra)
    }

    /// `socket dev --port 0` on `examples/<name>`, running that example's handler as the tests
    /// built it, plus `extra` arguments.
    pub fn example(name: &str, extra: &[&str]) -> SocketDev {
        let manifest = workspace_root().join(format!("examples/{name}/serverless.yml"));
        let mut args = vec![
            "dev".to_string(),
            "--config".to_string(),
            manifest.display().to_string(),
            "--port".to_string(),
            "0".to_string(),
            "--bootstrap".to_string(),
            example_binary(name).display().to_string(),
        ];
        args.extend(extra.iter().map(|arg| arg.to_string()));
        SocketDev::start(&args)
    }

    /// `socket <args>`; waits until it printed its URLs.
    pub fn start(args: &[String]) -> SocketDev {
        SocketDev::start_with_env(args, &[])
    }

    /// `socket <args>` with extra environment variables; waits until it printed its URLs.
    pub fn start_with_env(args: &[String], env: &[(&str, &str)]) -> SocketDev {
        let mut command = Command::new(socket_binary());
        // Its own process group, as a shell gives a foreground job: `interrupt` signals it whole.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .args(args)
            .envs(env.iter().copied())
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start socket dev");
        let output = Arc::new(Mutex::new(Vec::new()));
        for (stream, tag) in [
            (
                Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
                "",
            ),
            (Box::new(child.stderr.take().expect("stderr")), "stderr: "),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if std::env::var_os("SOCKET_TEST_ECHO_OUTPUT").is_some() {
                        eprintln!("{tag}{line}");
                    }
                    output.lock().unwrap().push(format!("{tag}{line}"));
                }
            });
        }
        let mut dev = SocketDev {
            child,
            ws_url: String::new(),
            management_url: String::new(),
            output,
        };
        // The first run builds the handler crate: allow for a cold build.
        let started = Instant::now();
        loop {
            let lines = dev.output();
            let ws = lines.iter().find(|line| line.starts_with("ws://"));
            let http = lines.iter().find(|line| line.starts_with("http://"));
            if let (Some(ws), Some(http)) = (ws, http) {
                dev.ws_url = ws.clone();
                dev.management_url = http.clone();
                return dev;
            }
            if let Ok(Some(status)) = dev.child.try_wait() {
                panic!(
                    "socket dev exited ({status}) before printing its URL:\n{}",
                    lines.join("\n")
                );
            }
            if started.elapsed() > Duration::from_secs(900) {
                panic!(
                    "socket dev printed no URL in 15 minutes:\n{}",
                    lines.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.ws_url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .expect("port in the URL")
    }

    /// Everything printed so far (stderr lines start with `stderr: `).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    /// Waits until a printed line satisfies `matches`.
    pub async fn wait_for_line(
        &self,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let give_up = Instant::now() + timeout;
        loop {
            if let Some(line) = self.output().into_iter().find(|line| matches(line)) {
                return Some(line);
            }
            if Instant::now() > give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the process to exit.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.child.id().to_string();
        self.signal_and_wait(&["-TERM", &pid], timeout)
    }

    /// Ctrl-C in a terminal: SIGINT to the whole process group (`socket dev` and anything it
    /// started in the group); waits (at most `timeout`) for `socket dev` to exit.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let group = format!("-{}", self.child.id());
        self.signal_and_wait(&["-INT", "--", &group], timeout)
    }

    /// `kill <kill_args>`, then waits (at most `timeout`) for `socket dev` to exit.
    fn signal_and_wait(&mut self, kill_args: &[&str], timeout: Duration) -> Option<ExitStatus> {
        let _ = Command::new("kill").args(kill_args).status();
        let give_up = Instant::now() + timeout;
        while Instant::now() < give_up {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The process id of `socket dev`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SocketDev {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first so the workers are stopped too; then make sure.
            let _ = self.terminate(Duration::from_secs(5));
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
