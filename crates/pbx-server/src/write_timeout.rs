//! [`WriteTimeout`]: a connection whose client stops taking what is written to
//! it fails after a while, so that the answer it holds is freed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Wraps a connection's stream: once a write or flush cannot go through (the
/// socket's buffer is full because the client does not read), the client has
/// `timeout` to take everything written so far, up to a completed flush; else
/// the write fails with [`io::ErrorKind::TimedOut`] and hyper closes the
/// connection, dropping the answer.
///
/// The clock runs from the first blocked write to the next completed flush, and
/// does not restart when the client takes a few bytes: a client reading a byte
/// now and then cannot hold an answer for longer than `timeout`. Reading is
/// left alone (the header, body and idle timeouts bound it).
#[derive(Debug)]
pub(crate) struct WriteTimeout<T> {
    inner: T,
    timeout: Duration,
    /// Running while written bytes wait for the client.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    pub(crate) fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: None,
        }
    }

    /// On a write or flush that cannot complete now: starts the clock if it is
    /// not running, and fails once it has run out.
    fn blocked(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.timeout;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(deadline.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client did not take the answer within the write timeout ({} ms)",
                timeout.as_millis()
            ),
        ))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.blocked(cx).map(Err),
            done => done,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.blocked(cx).map(Err),
            done => done,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.blocked(cx).map(Err),
            Poll::Ready(result) => {
                // Everything written went through: the client is keeping up.
                self.deadline = None;
                Poll::Ready(result)
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.blocked(cx).map(Err),
            done => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A client that takes nothing: the write fails once the timeout has passed,
    /// and not before.
    #[tokio::test(start_paused = true)]
    async fn a_write_the_client_does_not_take_times_out() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let error = server.write_all(&[b'x'; 1024]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        // What did go through is still there to read.
        let mut first = [0; 64];
        client.read_exact(&mut first).await.unwrap();
    }

    /// A client that keeps up is never cut off, however long the exchange lasts
    /// in all; the clock restarts at each completed flush.
    #[tokio::test(start_paused = true)]
    async fn a_client_that_keeps_up_is_not_cut_off() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, Duration::from_secs(30));
        let reader = tokio::spawn(async move {
            let mut taken = Vec::new();
            let mut chunk = [0; 64];
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                match client.read(&mut chunk).await.unwrap() {
                    0 => return taken,
                    n => taken.extend_from_slice(&chunk[..n]),
                }
            }
        });
        for _ in 0..4 {
            server.write_all(&[b'y'; 64]).await.unwrap();
            server.flush().await.unwrap();
        }
        server.shutdown().await.unwrap();
        drop(server);
        assert_eq!(reader.await.unwrap(), vec![b'y'; 256]);
    }
}
