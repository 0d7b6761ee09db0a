//! Host side of tiny-mnist: data loading, training, evaluation, model files
//! and the device client. The CLI in `main.rs` is a thin layer over this.
pub mod bundled;
pub mod dataset;
pub mod device;
pub mod evaluate;
pub mod firmware;
pub mod firmware_image;
pub mod image_input;
pub mod kaggle_csv;
pub mod mnist;
pub mod model_file;
pub mod parity;
pub mod paths;
pub mod plots;
pub mod progress;
pub mod render;
pub mod synthetic;
pub mod train;
