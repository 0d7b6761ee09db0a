//! What crosses the UART: every message ([`protocol`]) and the COBS frames
//! that carry them ([`framing`]).
pub mod framing;
pub mod protocol;
