//! The weight files as bytes: the f32 file and its header ([`weights_file`]),
//! the int8 file ([`int8_file`]), which of the two a file is ([`model_kind`]),
//! and what the ten outputs mean ([`classes`]).
pub mod classes;
pub mod int8_file;
pub mod model_kind;
pub mod weights_file;
