//! Reading request bodies under a global budget of body bytes in flight.
//!
//! A body is read only after its headers passed every check that needs no body
//! ([`crate::protocol::precheck`]), and only once the budget holds room for it: the declared
//! `Content-Length` (or, for a body without one, the most it may be) is reserved before the
//! first byte is read and released when the request is done. However many connections and
//! HTTP/2 streams send bodies at once, the bodies held in memory never exceed the budget; a
//! request that cannot get room before its body deadline is answered `ServiceUnavailable`
//! without having been read.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The global budget of request-body bytes held at once.
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    bytes: Arc<Semaphore>,
}

impl BodyBudget {
    /// A budget of `total` bytes.
    pub(crate) fn new(total: usize) -> Self {
        Self {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Bytes not reserved right now.
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// More bytes than allowed (declared or received).
    TooLarge,
    /// No room in the budget before the deadline.
    Busy,
    /// The body did not arrive before the deadline.
    TimedOut,
    /// The connection failed while reading.
    Unreadable,
}

/// A body read in full, holding its share of the budget until dropped.
#[derive(Debug)]
pub(crate) struct HeldBody {
    /// The bytes.
    pub bytes: Bytes,
    _room: Option<OwnedSemaphorePermit>,
}

/// Reads `body` (at most `max` bytes; `declared` is its `Content-Length`, if any) once the
/// budget has room for it, all before `deadline`.
pub(crate) async fn read<B>(
    mut body: B,
    declared: Option<u64>,
    max: usize,
    budget: &BodyBudget,
    deadline: Instant,
) -> Result<HeldBody, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
{
    let reserve = match declared {
        Some(n) if n > max as u64 => return Err(BodyError::TooLarge),
        Some(n) => usize::try_from(n).map_err(|_| BodyError::TooLarge)?,
        None => max,
    };
    let room = if reserve == 0 {
        None
    } else {
        let n = u32::try_from(reserve).map_err(|_| BodyError::TooLarge)?;
        let wait = budget.bytes.clone().acquire_many_owned(n);
        match tokio::time::timeout_at(deadline, wait).await {
            Ok(Ok(permit)) => Some(permit),
            Ok(Err(_)) | Err(_) => return Err(BodyError::Busy),
        }
    };
    let mut buf = BytesMut::with_capacity(if declared.is_some() { reserve } else { 0 });
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyError::Unreadable),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > reserve {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    let mut room = room;
    if declared.is_none()
        && let Some(permit) = room.as_mut()
    {
        // Keep only what the body really holds.
        drop(permit.split(reserve - buf.len()));
    }
    Ok(HeldBody {
        bytes: buf.freeze(),
        _room: room,
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    use super::*;

    type Chunks = StreamBody<
        futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>,
    >;

    fn chunks(parts: &[&[u8]]) -> Chunks {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::copy_from_slice(p))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    /// A body that never sends anything.
    fn stalled() -> StreamBody<futures_util::stream::Pending<Result<Frame<Bytes>, Infallible>>> {
        StreamBody::new(futures_util::stream::pending())
    }

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[tokio::test]
    async fn a_body_holds_its_declared_size_until_dropped() {
        let budget = BodyBudget::new(100);
        let held = read(
            Full::new(Bytes::from_static(b"0123456789")),
            Some(10),
            50,
            &budget,
            soon(1000),
        )
        .await
        .unwrap();
        assert_eq!(&held.bytes[..], b"0123456789");
        assert_eq!(budget.available(), 90);
        drop(held);
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn without_a_length_the_most_allowed_is_reserved_then_trimmed() {
        let budget = BodyBudget::new(100);
        let held = read(chunks(&[b"abc", b"de"]), None, 60, &budget, soon(1000))
            .await
            .unwrap();
        assert_eq!(&held.bytes[..], b"abcde");
        assert_eq!(budget.available(), 95);
        let e = read(chunks(&[b"abc", b"def"]), None, 5, &budget, soon(1000)).await;
        assert_eq!(e.unwrap_err(), BodyError::TooLarge);
        assert_eq!(budget.available(), 95, "a refused body gives its room back");
    }

    #[tokio::test]
    async fn no_room_before_the_deadline_is_busy_and_reads_nothing() {
        let budget = BodyBudget::new(100);
        let b2 = budget.clone();
        // A slow body has reserved 80 of the 100 bytes.
        let slow =
            tokio::spawn(async move { read(stalled(), Some(80), 100, &b2, soon(400)).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(budget.available(), 20);
        let e = read(
            Full::new(Bytes::from(vec![0u8; 30])),
            Some(30),
            100,
            &budget,
            soon(50),
        )
        .await;
        assert_eq!(e.unwrap_err(), BodyError::Busy);
        // A small one fits meanwhile.
        assert!(
            read(
                Full::new(Bytes::from(vec![0u8; 20])),
                Some(20),
                100,
                &budget,
                soon(50)
            )
            .await
            .is_ok()
        );
        // The slow one times out and frees its room; a waiting body then gets it.
        let b3 = budget.clone();
        let waiting = tokio::spawn(async move {
            let body = Full::new(Bytes::from(vec![1u8; 90]));
            read(body, Some(90), 100, &b3, soon(5000))
                .await
                .map(|h| h.bytes.len())
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "no room yet");
        assert_eq!(slow.await.unwrap().unwrap_err(), BodyError::TimedOut);
        assert_eq!(waiting.await.unwrap(), Ok(90));
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn declared_sizes_over_the_limit_are_refused_before_reading() {
        let budget = BodyBudget::new(100);
        let e = read(stalled(), Some(101), 100, &budget, soon(1000)).await;
        assert_eq!(e.unwrap_err(), BodyError::TooLarge);
        assert_eq!(budget.available(), 100);
    }
}
