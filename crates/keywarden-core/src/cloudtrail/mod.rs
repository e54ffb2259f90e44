//! CloudTrail: events, the format-detecting reader, key lineage and the EVT detections.
//! Pure like the rest of the core: bytes in, events and findings out.

pub mod analyzer;
mod decode;
pub mod detect;
pub mod event;
pub mod lineage;
mod pool;
pub mod reader;
pub mod stream;
mod wire;
