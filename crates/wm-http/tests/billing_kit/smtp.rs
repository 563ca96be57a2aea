//! A tiny SMTP server for tests: greets, accepts EHLO/MAIL/RCPT/DATA/QUIT, and hands each
//! message's raw text to the test. It can refuse the first N messages with a 451.

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub struct SmtpSink {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    messages: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Listen on a free port; refuse the first `refuse` messages (451, a transient failure).
    pub async fn start(refuse: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let (tx, messages) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            while let Ok((socket, _)) = listener.accept().await {
                let (tx, refused) = (tx.clone(), refused.clone());
                tokio::spawn(async move {
                    let _ = session(socket, tx, refused, refuse).await;
                });
            }
        });
        Self { url, messages, task }
    }

    /// The next message received (headers and body, dot-unstuffed), waiting up to 10 s.
    pub async fn next(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.messages.recv())
            .await
            .expect("no email within 10 s")
            .expect("sink stopped")
    }

    /// True when no message arrived within `wait`.
    pub async fn none_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.messages.recv()).await.is_err()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    tx: mpsc::UnboundedSender<String>,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    refuse: usize,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut message = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    message.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                    message.push('\n');
                }
                if refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < refuse {
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                } else {
                    let _ = tx.send(message);
                    write.write_all(b"250 2.0.0 queued\r\n").await?;
                }
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 2.0.0 ok\r\n").await?,
        }
    }
    Ok(())
}

/// The claim link in an email (quoted-printable soft breaks undone).
pub fn claim_link(message: &str) -> String {
    let text = message.replace("=\n", "").replace("=3D", "=");
    let start = text.find("http").expect("a link in the email");
    text[start..].split_whitespace().next().unwrap().to_owned()
}
