//! The host's side of a board: the device client (serial, TCP or an
//! emulator), firmware builds and the checks before booting one, the
//! host/board parity report, and where the checkout is.
pub mod device;
pub mod firmware;
pub mod firmware_image;
pub mod parity;
pub mod paths;
