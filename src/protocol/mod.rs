//! RESP wire protocol: request decoding and reply encoding.
//!
//! This layer knows nothing of storage or commands: it turns bytes into [`Argv`] requests and
//! [`Reply`] values into bytes, for RESP2 and RESP3 clients alike.

pub mod argv;
pub mod decode;
pub mod reply;

pub use argv::{Argv, ArgvBuilder};
pub use decode::{parse_i64, Decoder, Limits, Request};
pub use reply::{encode, format_double, Protocol, Reply};
