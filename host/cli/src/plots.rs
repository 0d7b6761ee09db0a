//! PNG pictures of a model and its training: learning curves, confusion matrix,
//! the hidden units' input weights, and the test images it gets wrong.
//!
//! Drawn with `plotters` into an RGB buffer and written with `image`, using the
//! DejaVu Sans font compiled in (no system fonts needed).
use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use shared::input::Preprocessing;
use shared::{Classes, HIDDEN, INPUT, OUTPUT};

use trainer::mnist::Pixels;
use trainer::train::EpochReport;

/// The font family every picture uses; registered from the `dejavu` crate on first use.
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws `(width, height)` pixels with `draw` and writes them to `path` as PNG.
fn render(path: &Path, (width, height): (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<()> {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The bundled font is known-good; if registration ever failed, text would be missing, not wrong.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
    let mut buffer = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    let picture = image::RgbImage::from_raw(width, height, buffer).context("picture buffer has the wrong size")?;
    picture.save(path).with_context(|| format!("cannot write {}", path.display()))
}

fn plot_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Loss (left) and accuracies (right) per epoch.
pub fn learning_curves(path: &Path, history: &[EpochReport]) -> Result<()> {
    render(path, (1200, 500), |root| {
        let (left, right) = root.split_horizontally(600);
        let first = history.first().map_or(1.0, |r| r.epoch.min(1.0));
        let last = history.last().map_or(2.0, |r| r.epoch.max(first + 1.0));
        let x_range = first..last;
        let max_loss = history.iter().map(|r| f64::from(r.loss)).fold(0.0, f64::max).max(1e-3) * 1.1;
        let mut chart = ChartBuilder::on(&left)
            .caption("Training loss", (FONT, 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range.clone(), 0.0..max_loss)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("mean cross-entropy")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(plot_error)?;
        let loss = history.iter().map(|r| (r.epoch, f64::from(r.loss)));
        chart.draw_series(LineSeries::new(loss.clone(), RED.stroke_width(2))).map_err(plot_error)?;
        chart.draw_series(loss.map(|p| Circle::new(p, 3, RED.filled()))).map_err(plot_error)?;

        let accuracies = [
            ("train (as seen)", BLUE, history.iter().map(|r| Some(r.train_accuracy)).collect::<Vec<_>>()),
            ("validation", GREEN, history.iter().map(|r| r.validation_accuracy).collect()),
            ("test (monitor only)", MAGENTA, history.iter().map(|r| r.monitor_accuracy).collect()),
        ];
        let all = accuracies.iter().flat_map(|(_, _, v)| v.iter().flatten().copied());
        let low = all.fold(1.0, f64::min);
        let low = ((low * 100.0 - 1.0).floor().max(0.0)) / 100.0;
        let mut chart = ChartBuilder::on(&right)
            .caption("Accuracy", (FONT, 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range, low * 100.0..100.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("%")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(plot_error)?;
        for (name, colour, values) in accuracies {
            let points: Vec<(f64, f64)> =
                history.iter().zip(values).filter_map(|(r, v)| v.map(|v| (r.epoch, v * 100.0))).collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(plot_error)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 16))
            .draw()
            .map_err(plot_error)?;
        Ok(())
    })
}

/// The confusion matrix as a heat map, shaded by each row's share, with the counts written in.
pub fn confusion_matrix(path: &Path, confusion: &[[u32; OUTPUT]; OUTPUT], classes: Classes, title: &str) -> Result<()> {
    const CELL: i32 = 64;
    const LEFT: i32 = 130;
    const TOP: i32 = 90;
    let size = (LEFT + CELL * OUTPUT as i32 + 110, TOP + CELL * OUTPUT as i32 + 40);
    render(path, (size.0 as u32, size.1 as u32), |root| {
        let text = |s: &str, at: (i32, i32), px: u32, colour: &RGBColor, anchor: (HPos, VPos)| {
            let style = TextStyle::from((FONT, px).into_font()).color(colour).pos(Pos::new(anchor.0, anchor.1));
            root.draw(&Text::new(s.to_string(), at, style)).map_err(plot_error)
        };
        text(title, (size.0 / 2, 20), 22, &BLACK, (HPos::Center, VPos::Center))?;
        text("predicted", (LEFT + CELL * 5, TOP - 45), 16, &BLACK, (HPos::Center, VPos::Center))?;
        text("true", (LEFT - 8, TOP - 14), 16, &BLACK, (HPos::Right, VPos::Center))?;
        let names = classes.names();
        for (truth, row) in confusion.iter().enumerate() {
            let total = row.iter().sum::<u32>().max(1);
            let y = TOP + CELL * truth as i32;
            text(names[truth], (LEFT - 8, y + CELL / 2), 14, &BLACK, (HPos::Right, VPos::Center))?;
            for (predicted, &count) in row.iter().enumerate() {
                let x = LEFT + CELL * predicted as i32;
                let share = f64::from(count) / f64::from(total);
                // sqrt so that the small off-diagonal mistakes are still visible
                let shade = share.sqrt();
                let colour = if truth == predicted {
                    RGBColor(lerp(255, 30, shade), lerp(255, 110, shade), lerp(255, 200, shade))
                } else {
                    RGBColor(lerp(255, 220, shade), lerp(255, 40, shade), lerp(255, 40, shade))
                };
                root.draw(&Rectangle::new([(x, y), (x + CELL, y + CELL)], colour.filled())).map_err(plot_error)?;
                root.draw(&Rectangle::new([(x, y), (x + CELL, y + CELL)], RGBColor(200, 200, 200)))
                    .map_err(plot_error)?;
                let ink = if shade > 0.6 { WHITE } else { BLACK };
                if count > 0 {
                    text(&count.to_string(), (x + CELL / 2, y + CELL / 2), 15, &ink, (HPos::Center, VPos::Center))?;
                }
            }
            let recall = f64::from(row[truth]) / f64::from(total) * 100.0;
            let x = LEFT + CELL * OUTPUT as i32 + 8;
            text(&format!("{recall:.1} %"), (x, y + CELL / 2), 14, &BLACK, (HPos::Left, VPos::Center))?;
        }
        for (predicted, name) in names.iter().enumerate() {
            let x = LEFT + CELL * predicted as i32 + CELL / 2;
            let short = name.split('/').next().unwrap_or(name);
            text(short, (x, TOP - 14), 12, &BLACK, (HPos::Center, VPos::Center))?;
        }
        text("recall", (LEFT + CELL * OUTPUT as i32 + 8, TOP - 14), 13, &BLACK, (HPos::Left, VPos::Center))?;
        Ok(())
    })
}

fn lerp(from: u8, to: u8, t: f64) -> u8 {
    (f64::from(from) + (f64::from(to) - f64::from(from)) * t.clamp(0.0, 1.0)).round() as u8
}

/// Each hidden unit's 784 input weights as a 28×28 picture: red positive, blue negative,
/// each unit scaled to its own largest weight.
pub fn hidden_weights(path: &Path, w1: &[[f32; HIDDEN]; INPUT]) -> Result<()> {
    const SCALE: i32 = 8;
    const SIDE: i32 = shared::SIDE as i32 * SCALE;
    const GAP: i32 = 20;
    const COLUMNS: i32 = 5;
    let rows = (HIDDEN as i32 + COLUMNS - 1) / COLUMNS;
    let size = (COLUMNS * (SIDE + GAP) + GAP, rows * (SIDE + GAP + 24) + 60);
    render(path, (size.0 as u32, size.1 as u32), |root| {
        let title = TextStyle::from((FONT, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new("Hidden units' input weights (red +, blue -)", (size.0 / 2, 24), title))
            .map_err(plot_error)?;
        for unit in 0..HIDDEN {
            let (column, row) = (unit as i32 % COLUMNS, unit as i32 / COLUMNS);
            let x0 = GAP + column * (SIDE + GAP);
            let y0 = 60 + row * (SIDE + GAP + 24) + 24;
            let peak = w1.iter().map(|w| w[unit].abs()).fold(0.0f32, f32::max).max(1e-12);
            for (pixel, weights) in w1.iter().enumerate() {
                let v = f64::from(weights[unit] / peak);
                let colour = if v >= 0.0 {
                    RGBColor(255, lerp(255, 0, v), lerp(255, 0, v))
                } else {
                    RGBColor(lerp(255, 0, -v), lerp(255, 0, -v), 255)
                };
                let (px, py) = (x0 + (pixel % shared::SIDE) as i32 * SCALE, y0 + (pixel / shared::SIDE) as i32 * SCALE);
                root.draw(&Rectangle::new([(px, py), (px + SCALE, py + SCALE)], colour.filled()))
                    .map_err(plot_error)?;
            }
            let label = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
            root.draw(&Text::new(format!("unit {unit} (max |w| {peak:.2})"), (x0 + SIDE / 2, y0 - 4), label))
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

/// Writes `confusion.png`, `misclassified.png` and `hidden_weights.png` for `network` on `test` into `dir`;
/// returns the paths written.
pub fn model_pictures(
    dir: &Path,
    network: &trainer::model_file::Network,
    test: &trainer::mnist::Dataset,
    classes: Classes,
) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut confusion = [[0u32; OUTPUT]; OUTPUT];
    let mut mistakes = Vec::new();
    for (index, (image, &label)) in test.images.iter().zip(&test.labels).enumerate() {
        let predicted = shared::Classifier::classify(network, image).digit;
        confusion[usize::from(label) % OUTPUT][usize::from(predicted) % OUTPUT] += 1;
        if predicted != label {
            mistakes.push(Mistake { index, image, label, predicted });
        }
    }
    let correct: u32 = (0..OUTPUT).map(|d| confusion[d][d]).sum();
    let title = format!(
        "Confusion matrix: {correct}/{} correct ({:.2} %)",
        test.len(),
        f64::from(correct) / test.len().max(1) as f64 * 100.0
    );
    let paths = [dir.join("confusion.png"), dir.join("misclassified.png"), dir.join("hidden_weights.png")];
    confusion_matrix(&paths[0], &confusion, classes, &title)?;
    misclassified(&paths[1], &mistakes, classes, test.len())?;
    hidden_weights(&paths[2], &network.first_layer())?;
    Ok(paths.to_vec())
}

/// One image the model got wrong.
pub struct Mistake<'a> {
    /// Index in the test set.
    pub index: usize,
    /// The image.
    pub image: &'a Pixels,
    /// The true class.
    pub label: u8,
    /// What the model said.
    pub predicted: u8,
}

/// One 28×28 image, black ink on white paper, `scale` screen pixels per pixel, framed in grey.
fn draw_digit(root: &Area, image: &Pixels, (x0, y0): (i32, i32), scale: i32) -> Result<()> {
    for (pixel, &value) in image.iter().enumerate() {
        let (px, py) = (x0 + (pixel % shared::SIDE) as i32 * scale, y0 + (pixel / shared::SIDE) as i32 * scale);
        let ink = 255 - value;
        root.draw(&Rectangle::new([(px, py), (px + scale, py + scale)], RGBColor(ink, ink, ink).filled()))
            .map_err(plot_error)?;
    }
    let side = shared::SIDE as i32 * scale;
    root.draw(&Rectangle::new([(x0, y0), (x0 + side, y0 + side)], RGBColor(180, 180, 180))).map_err(plot_error)?;
    Ok(())
}

/// The first 20 test images as they come (top row) and as the network sees
/// them after `preprocessing` (bottom row; stroke maps drawn as lines, see `pictures::view`).
pub fn preprocessing(path: &Path, test: &trainer::mnist::Dataset, preprocessing: Preprocessing) -> Result<()> {
    const SCALE: i32 = 3;
    const CELL: i32 = shared::SIDE as i32 * SCALE + 8;
    let shown = &test.images[..test.len().min(20)];
    let size = (shown.len().max(1) as i32 * CELL + 20, 2 * CELL + 70);
    render(path, (size.0 as u32, size.1 as u32), |root| {
        let title = TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let heading =
            format!("Test images 0-{}: as they come (top), after {} (bottom)", shown.len() - 1, preprocessing.name());
        root.draw(&Text::new(heading, (size.0 / 2, 20), title)).map_err(plot_error)?;
        for (n, image) in shown.iter().enumerate() {
            let x0 = 10 + n as i32 * CELL;
            draw_digit(root, image, (x0, 45), SCALE)?;
            let view = pictures::view::network_view(preprocessing, image);
            // Drawn at the digit's size whatever the view's resolution.
            draw_view(root, &view, (x0, 45 + CELL + 10), shared::SIDE as i32 * SCALE)?;
        }
        Ok(())
    })
}

/// A view of what the network sees, black on white, `side` screen pixels square, framed in grey.
fn draw_view(root: &Area, view: &image::GrayImage, (x0, y0): (i32, i32), side: i32) -> Result<()> {
    let (w, h) = view.dimensions();
    for y in 0..side {
        for x in 0..side {
            let value = view.get_pixel(x as u32 * w / side as u32, y as u32 * h / side as u32).0[0];
            let ink = 255 - value;
            root.draw(&Rectangle::new([(x0 + x, y0 + y), (x0 + x + 1, y0 + y + 1)], RGBColor(ink, ink, ink).filled()))
                .map_err(plot_error)?;
        }
    }
    root.draw(&Rectangle::new([(x0, y0), (x0 + side, y0 + side)], RGBColor(180, 180, 180))).map_err(plot_error)?;
    Ok(())
}

/// A grid of misclassified images with true and predicted classes (at most 60).
pub fn misclassified(path: &Path, mistakes: &[Mistake], classes: Classes, total: usize) -> Result<()> {
    const SCALE: i32 = 4;
    const SIDE: i32 = shared::SIDE as i32 * SCALE;
    const CELL_W: i32 = SIDE + 30;
    const CELL_H: i32 = SIDE + 44;
    const COLUMNS: i32 = 10;
    let shown = &mistakes[..mistakes.len().min(60)];
    let rows = ((shown.len() as i32 + COLUMNS - 1) / COLUMNS).max(1);
    let size = (COLUMNS * CELL_W + 20, rows * CELL_H + 60);
    render(path, (size.0 as u32, size.1 as u32), |root| {
        let title = TextStyle::from((FONT, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let heading = format!(
            "{} of {} test images misclassified (first {} shown): index and true class, → predicted",
            mistakes.len(),
            total,
            shown.len()
        );
        root.draw(&Text::new(heading, (size.0 / 2, 24), title)).map_err(plot_error)?;
        for (n, m) in shown.iter().enumerate() {
            let x0 = 10 + (n as i32 % COLUMNS) * CELL_W + 15;
            let y0 = 50 + (n as i32 / COLUMNS) * CELL_H;
            draw_digit(root, m.image, (x0, y0), SCALE)?;
            const TRUE_COLOUR: RGBColor = RGBColor(0, 120, 0);
            const PREDICTED_COLOUR: RGBColor = RGBColor(200, 0, 0);
            let style = |colour: &'static RGBColor| {
                TextStyle::from((FONT, 13).into_font()).color(colour).pos(Pos::new(HPos::Center, VPos::Top))
            };
            let (label, predicted) = (classes.name(m.label), classes.name(m.predicted));
            let line1 = format!("#{} {label}", m.index);
            root.draw(&Text::new(line1, (x0 + SIDE / 2, y0 + SIDE + 3), style(&TRUE_COLOUR))).map_err(plot_error)?;
            root.draw(&Text::new(format!("→ {predicted}"), (x0 + SIDE / 2, y0 + SIDE + 19), style(&PREDICTED_COLOUR)))
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> image::RgbImage {
        image::open(path).unwrap().to_rgb8()
    }

    /// Counts pixels that are neither white nor grey: the picture has content in colour.
    fn coloured(picture: &image::RgbImage) -> usize {
        picture.pixels().filter(|p| p.0[0] != p.0[1] || p.0[1] != p.0[2]).count()
    }

    #[test]
    fn every_picture_is_a_png_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let history: Vec<EpochReport> = (1..=4)
            .map(|epoch| EpochReport {
                epoch: f64::from(epoch),
                loss: 1.0 / epoch as f32,
                train_accuracy: 0.8 + f64::from(epoch) * 0.02,
                validation_accuracy: Some(0.82 + f64::from(epoch) * 0.02),
                monitor_accuracy: Some(0.81 + f64::from(epoch) * 0.02),
                train_seconds: f64::from(epoch),
            })
            .collect();
        let curves = dir.path().join("curves.png");
        learning_curves(&curves, &history).unwrap();
        assert_eq!(read(&curves).dimensions(), (1200, 500));
        assert!(coloured(&read(&curves)) > 1000);

        let mut confusion = [[1u32; OUTPUT]; OUTPUT];
        for (d, row) in confusion.iter_mut().enumerate() {
            row[d] = 900;
        }
        let path = dir.path().join("confusion.png");
        confusion_matrix(&path, &confusion, Classes::Fashion, "test").unwrap();
        // the diagonal cell of class 0 is dark blue
        let picture = read(&path);
        let p = picture.get_pixel(130 + 10, 90 + 10).0;
        assert!(p[2] > 150 && p[0] < 80, "{p:?}");

        let mut w1 = [[0.0f32; HIDDEN]; INPUT];
        w1[0][0] = 1.0;
        w1[1][0] = -1.0;
        let path = dir.path().join("weights.png");
        hidden_weights(&path, &w1).unwrap();
        let picture = read(&path);
        // unit 0, pixel 0 is full red, pixel 1 full blue
        assert_eq!(picture.get_pixel(20 + 2, 60 + 24 + 2).0, [255, 0, 0]);
        assert_eq!(picture.get_pixel(20 + 8 + 2, 60 + 24 + 2).0, [0, 0, 255]);

        let image = [255u8; INPUT];
        let mistakes = [Mistake { index: 3, image: &image, label: 1, predicted: 2 }];
        let path = dir.path().join("wrong.png");
        misclassified(&path, &mistakes, Classes::Digits, 10).unwrap();
        let picture = read(&path);
        assert_eq!(picture.get_pixel(10 + 15 + 5, 50 + 5).0, [0, 0, 0], "white digit drawn as black ink");
        assert!(coloured(&picture) > 20, "the labels are coloured text");
    }

    #[test]
    fn preprocessing_shows_each_digit_before_and_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut bar = [0u8; INPUT];
        for y in 4..24 {
            bar[y * shared::SIDE + 6 + (y - 4) / 2] = 255; // a slanted stroke
        }
        let test =
            trainer::mnist::Dataset { images: vec![bar; 3].into(), labels: vec![1; 3], classes: Classes::Digits };
        let path = dir.path().join("pre.png");
        preprocessing(&path, &test, Preprocessing::Deskew).unwrap();
        let picture = read(&path);
        let inked = |y0: u32| {
            (0..84)
                .flat_map(|y| (0..84).map(move |x| (x, y)))
                .filter(|&(x, y)| picture.get_pixel(10 + x, y0 + y).0[0] < 128)
                .count()
        };
        assert!(inked(45) > 20 && inked(45 + 92 + 10) > 20, "both rows show the stroke");
    }
}
