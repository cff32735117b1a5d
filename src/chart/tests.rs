use super::*;

/// A decoded PNG: width, height and RGB rows.
struct Picture {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Picture {
    fn decode(bytes: &[u8]) -> Picture {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a PNG header");
        let mut rgb = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut rgb).expect("PNG image data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        rgb.truncate(info.buffer_size());
        Picture {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn pixel(&self, x: i32, y: i32) -> RGBColor {
        let i = ((y as u32 * self.width + x as u32) * 3) as usize;
        RGBColor(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// How many pixels of row `y` between `x0` and `x1` have `colour`.
    fn count_in_row(&self, y: i32, (x0, x1): (i32, i32), colour: RGBColor) -> usize {
        (x0..x1).filter(|x| self.pixel(*x, y) == colour).count()
    }

    /// Whether `colour` is within `r` pixels of (x, y).
    fn near(&self, (x, y): (i32, i32), r: i32, colour: RGBColor) -> bool {
        (x - r..=x + r).any(|px| (y - r..=y + r).any(|py| self.pixel(px, py) == colour))
    }
}

/// 30 minutes of one-minute points, the last five above 10.
fn alarm_chart() -> Chart {
    let start = 1_796_023_200; // 2026-11-30T07:20:00Z
    let points = (0..30)
        .map(|i| {
            let v = if i >= 25 {
                14.0 + i as f64 % 3.0
            } else {
                2.0 + (i % 4) as f64
            };
            (start + i * 60, v)
        })
        .collect();
    Chart {
        title: "myHelloWorld-errors: AWS/Lambda Errors FunctionName=myHelloWorld (Sum)".into(),
        unit: Some("Count".into()),
        points,
        threshold: Some(10.0),
        comparison: Some(Comparison::GreaterThanOrEqual),
        from: start,
        to: start + 31 * 60,
        window: Some((start + 25 * 60, start + 30 * 60)),
        state_change: Some((start + 30 * 60, "ALARM".into())),
    }
}

/// The row a value is drawn on, from the frame alone.
fn row_of(frame: &Frame, value: f64) -> i32 {
    let (top, bottom) = (frame.y.0 as f64, (frame.y.1 - 1) as f64);
    (bottom - (value - frame.low) / (frame.high - frame.low) * (bottom - top)).round() as i32
}

fn column_of(frame: &Frame, chart: &Chart, t: i64) -> i32 {
    let (left, right) = (frame.x.0 as f64, (frame.x.1 - 1) as f64);
    (left + (t - chart.from) as f64 / (chart.to - chart.from) as f64 * (right - left)).round()
        as i32
}

#[test]
fn a_chart_is_a_png_of_the_stated_size() {
    let bytes = png(&alarm_chart()).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let picture = Picture::decode(&bytes);
    assert_eq!((picture.width, picture.height), (WIDTH, HEIGHT));
    // Not a blank page: the line's colour is there.
    assert!(picture.rgb.chunks(3).any(|p| p == [LINE.0, LINE.1, LINE.2]));
}

#[test]
fn the_threshold_line_is_drawn_at_the_thresholds_height_across_the_plot() {
    for threshold in [10.0, 4.5] {
        let chart = Chart {
            threshold: Some(threshold),
            ..alarm_chart()
        };
        let (bytes, frame) = png_with_frame(&chart).unwrap();
        let picture = Picture::decode(&bytes);
        let expected = row_of(&frame, threshold);
        let width = (frame.x.1 - frame.x.0) as usize;
        // The row with the most threshold-red is within a pixel of where the value belongs,
        // and the line spans (nearly) the whole plot.
        let (best_row, count) = (frame.y.0..frame.y.1)
            .map(|y| (y, picture.count_in_row(y, frame.x, THRESHOLD)))
            .max_by_key(|(_, n)| *n)
            .unwrap();
        assert!(
            (best_row - expected).abs() <= 1,
            "threshold {threshold}: line at row {best_row}, expected {expected}"
        );
        assert!(count > width * 8 / 10, "{count} of {width} pixels");
        // And nowhere else: rows well away from it have none of it.
        assert_eq!(picture.count_in_row(expected - 20, frame.x, THRESHOLD), 0);
    }
}

#[test]
fn points_beyond_the_threshold_are_marked_and_the_others_are_not() {
    let chart = alarm_chart();
    let (bytes, frame) = png_with_frame(&chart).unwrap();
    let picture = Picture::decode(&bytes);
    for &(t, v) in &chart.points {
        let at = (column_of(&frame, &chart, t), row_of(&frame, v));
        let marked = picture.near(at, 2, BREACH);
        assert_eq!(marked, v >= 10.0, "point at {t} ({v}) marked: {marked}");
    }
    // The state change is an orange line at its time.
    let x = column_of(&frame, &chart, chart.state_change.as_ref().unwrap().0);
    let middle = (frame.y.0 + frame.y.1) / 2;
    assert!(picture.near((x, middle), 1, STATE_CHANGE));
}

#[test]
fn below_threshold_alarms_mark_the_low_points() {
    let chart = Chart {
        comparison: Some(Comparison::LessThan),
        threshold: Some(3.5),
        ..alarm_chart()
    };
    let (bytes, frame) = png_with_frame(&chart).unwrap();
    let picture = Picture::decode(&bytes);
    for &(t, v) in &chart.points {
        let at = (column_of(&frame, &chart, t), row_of(&frame, v));
        assert_eq!(picture.near(at, 2, BREACH), v < 3.5, "{t} {v}");
    }
}

#[test]
fn no_data_still_draws_the_threshold_and_says_so() {
    let chart = Chart {
        points: vec![],
        ..alarm_chart()
    };
    let (bytes, frame) = png_with_frame(&chart).unwrap();
    let picture = Picture::decode(&bytes);
    let row = row_of(&frame, 10.0);
    assert!(picture.count_in_row(row, frame.x, THRESHOLD) > 0);
    // The text is drawn with the embedded font: dark pixels in the middle of the plot.
    let middle = (frame.y.0 + frame.y.1) / 2;
    let dark = (frame.y.0..frame.y.1)
        .filter(|y| (y - middle).abs() < 15)
        .map(|y| picture.count_in_row(y, frame.x, TEXT))
        .sum::<usize>();
    assert!(dark > 0, "no text drawn");
}

#[test]
fn stacked_charts_are_one_tall_png() {
    let charts = vec![alarm_chart(); 7];
    let picture = Picture::decode(&png_stacked(&charts).unwrap());
    assert_eq!((picture.width, picture.height), (WIDTH, HEIGHT * 7));
    // Every slice has its threshold line.
    for i in 0..7 {
        let rows = (i * HEIGHT as i32)..((i + 1) * HEIGHT as i32);
        let most = rows
            .map(|y| picture.count_in_row(y, (0, WIDTH as i32), THRESHOLD))
            .max()
            .unwrap();
        assert!(most > (WIDTH as usize) / 2, "chart {i}: {most}");
    }
    assert_eq!(png_stacked(&[]), Err(ChartError::EmptyRange));
}

#[test]
fn odd_input_draws_or_says_why_without_panicking() {
    let empty = Chart {
        to: alarm_chart().from,
        ..alarm_chart()
    };
    assert_eq!(png(&empty), Err(ChartError::EmptyRange));
    let flat = Chart {
        points: vec![
            (alarm_chart().from + 60, f64::NAN),
            (alarm_chart().from + 120, 0.0),
        ],
        threshold: None,
        comparison: None,
        window: None,
        state_change: None,
        unit: None,
        ..alarm_chart()
    };
    assert!(png(&flat).is_ok());
    let huge = Chart {
        points: vec![
            (alarm_chart().from + 60, 1e300),
            (alarm_chart().from + 120, -1e300),
        ],
        ..alarm_chart()
    };
    assert!(png(&huge).is_ok());
}

#[test]
fn time_ticks_are_round_and_labels_are_utc() {
    let from = 1_796_023_230; // 07:20:30
    let ticks = time_ticks(from, from + 31 * 60);
    assert!((4..=8).contains(&ticks.len()), "{ticks:?}");
    assert!(ticks.iter().all(|t| t % 300 == 0), "{ticks:?}");
    assert_eq!(time_label(1_796_025_127, false), "07:52");
    assert_eq!(time_label(1_796_025_127, true), "11-30 07:52");
    assert_eq!(date(1_796_025_127), "2026-11-30");
    assert_eq!(value_label(2.5), "2.5");
    assert_eq!(value_label(12000.0), "12k");
}

#[test]
fn comparisons_read_cloudwatchs_operators() {
    assert_eq!(
        Comparison::from_operator("GreaterThanOrEqualToThreshold"),
        Some(Comparison::GreaterThanOrEqual)
    );
    assert_eq!(
        Comparison::from_operator("LessThanLowerOrGreaterThanUpperThreshold"),
        None
    );
    assert!(Comparison::GreaterThanOrEqual.breaches(1.0, 1.0));
    assert!(!Comparison::GreaterThan.breaches(1.0, 1.0));
    assert!(Comparison::LessThanOrEqual.breaches(1.0, 1.0));
    assert!(!Comparison::LessThan.breaches(1.0, 1.0));
}
