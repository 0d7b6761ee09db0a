//! The trainer's side of tiny-mnist: datasets (IDX, Kaggle CSV, the bundled
//! MNIST), training with backpropagation, evaluation and model files. It never
//! reaches a serial port or a picture.
pub mod bundled;
pub mod dataset;
pub mod evaluate;
pub mod gzip;
pub mod kaggle_csv;
pub mod mnist;
pub mod model_file;
pub mod train;
