//! Paginators: every item of an `Offset`/`Limit` `Describe*` list, as a [`Stream`].
//!
//! ```no_run
//! # async fn demo(client: ms_transport::Client) -> Result<(), ms_transport::Error> {
//! use futures_util::TryStreamExt;
//! use ms_model::DescribeScanInstancesRequest;
//! let all: Vec<_> = ms_transport::paginate(&client, DescribeScanInstancesRequest::default())
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```

use futures_util::stream::{self, Stream, StreamExt};
use ms_model::{
    Action, AppScanSet, AppSetInfo, DescribeResourceInstancesRequest, DescribeScanInstancesRequest,
    DescribeShieldInstancesRequest, ResourceInfo,
};

use crate::client::Client;
use crate::error::Error;

/// Largest `Limit` the paginated ms actions accept.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A `Describe*` request paged with `Offset`/`Limit`.
pub trait Paginated: Action {
    /// One element of the list.
    type Item: Send + 'static;
    /// The `Limit` the caller set, if any.
    fn limit(&self) -> Option<u64>;
    /// The `Offset` the caller set, if any.
    fn offset(&self) -> Option<u64>;
    /// Sets `Offset` and `Limit`.
    fn set_page(&mut self, offset: u64, limit: u64);
    /// Splits a reply into its items and `TotalCount`.
    fn into_page(response: Self::Response) -> (Vec<Self::Item>, Option<u64>);
}

macro_rules! paginated {
    ($req:ty, $item:ty, $field:ident) => {
        impl Paginated for $req {
            type Item = $item;
            fn limit(&self) -> Option<u64> {
                self.limit
            }
            fn offset(&self) -> Option<u64> {
                self.offset
            }
            fn set_page(&mut self, offset: u64, limit: u64) {
                self.offset = Some(offset);
                self.limit = Some(limit);
            }
            fn into_page(r: Self::Response) -> (Vec<Self::Item>, Option<u64>) {
                (r.$field.unwrap_or_default(), r.total_count)
            }
        }
    };
}

paginated!(DescribeScanInstancesRequest, AppScanSet, scan_set);
paginated!(DescribeShieldInstancesRequest, AppSetInfo, app_set);
paginated!(DescribeResourceInstancesRequest, ResourceInfo, resource_set);

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Offset of the first item.
    pub offset: u64,
    /// The items.
    pub items: Vec<T>,
    /// `TotalCount` reported by the service.
    pub total_count: Option<u64>,
}

struct State<R> {
    client: Client,
    request: R,
    offset: u64,
    limit: u64,
    done: bool,
}

/// Every page, starting at the request's `Offset` (default 0), with the request's `Limit`
/// as page size (default [`MAX_PAGE_SIZE`]). Ends after a short or empty page, when
/// `TotalCount` is reached, or after the first error (which is yielded).
pub fn paginate_pages<R: Paginated>(
    client: &Client,
    request: R,
) -> impl Stream<Item = Result<Page<R::Item>, Error>> + Send + 'static {
    let limit = request
        .limit()
        .unwrap_or(MAX_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let state = State {
        client: client.clone(),
        offset: request.offset().unwrap_or(0),
        request,
        limit,
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        st.request.set_page(st.offset, st.limit);
        match st.client.send(&st.request).await {
            Ok(resp) => {
                let (items, total) = R::into_page(resp);
                let n = items.len() as u64;
                let page = Page {
                    offset: st.offset,
                    items,
                    total_count: total,
                };
                // A caller-chosen Offset near u64::MAX must not overflow (it ends the walk).
                let next = st.offset.checked_add(n);
                st.offset = next.unwrap_or(u64::MAX);
                st.done = next.is_none() || n < st.limit || total.is_some_and(|t| st.offset >= t);
                Some((Ok(page), st))
            }
            Err(e) => {
                st.done = true;
                Some((Err(e), st))
            }
        }
    })
}

/// Every item of every page (see [`paginate_pages`]).
pub fn paginate<R: Paginated>(
    client: &Client,
    request: R,
) -> impl Stream<Item = Result<R::Item, Error>> + Send + 'static {
    paginate_pages(client, request).flat_map(|page| {
        let items: Vec<Result<R::Item, Error>> = match page {
            Ok(p) => p.items.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(items)
    })
}
