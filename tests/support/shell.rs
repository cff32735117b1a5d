//! The bot's shell as `scripts/demo` runs it (the demo configuration, channel C0DEMO, user
//! U0DEMO, account dev), driven line by line: what a test types goes to its stdin, and its
//! output is read up to a deadline, so a missing line fails the test with everything the
//! shell said instead of hanging it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct DemoShell {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    /// Everything read so far; `read_until` looks at what came after its call began.
    seen: String,
    deadline: Instant,
}

impl DemoShell {
    /// Starts `bot` (the bot's command, environment set) as the demo's shell; everything the
    /// test reads must have arrived `within` from now.
    pub fn start(mut bot: Command, within: Duration) -> DemoShell {
        let mut child = bot
            .args(["shell", "--config"])
            .arg(super::root().join("fixtures/config/demo.toml"))
            .args(super::DEMO_SENDER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the bot starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // Bounded: the reader thread waits while the test is behind, rather than buffering a
        // shell that floods its output. It ends when the shell's stdout closes.
        let (tx, lines) = mpsc::sync_channel(256);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        DemoShell {
            child,
            stdin,
            lines,
            seen: String::new(),
            deadline: Instant::now() + within,
        }
    }

    /// Types `lines` (each ends with a newline) into the shell.
    pub fn type_lines(&mut self, lines: &[&str]) {
        for line in lines {
            writeln!(self.stdin, "{line}").expect("the shell reads its input");
        }
        self.stdin.flush().expect("the shell reads its input");
    }

    /// Reads the shell's output until `done` holds for what arrived since this call began,
    /// and returns that; at the deadline, fails with all the shell said.
    pub fn read_until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let from = self.seen.len();
        while !done(&self.seen[from..]) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                }
                Err(_) => panic!("no {what} in the shell's output:\n{}", self.seen),
            }
        }
        self.seen[from..].to_owned()
    }
}

impl Drop for DemoShell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
