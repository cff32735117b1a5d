//! Alarm charts (issue #11): how long one PNG takes, drawing and encoding, with the embedded
//! font. The target is under 20 ms per PNG.
//!
//! `cargo bench --bench chart`:
//! - `chart/alarm_30_points`: a notification's chart, half an hour of one-minute points with a
//!   threshold, breaching points, the evaluation window and the state change;
//! - `chart/day_1440_points`: a day of one-minute points (the most a chart shows is 1,440
//!   periods);
//! - `chart/stacked_7`: describe-alarms' one file for seven alarms (seven charts, one PNG).
//!
//! Before criterion's lines it prints each one's median and p99 over 200 runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_chatops::chart::{png, png_stacked, Chart, Comparison};
use criterion::{criterion_group, criterion_main, Criterion};

const START: i64 = 1_796_023_200; // 2026-11-30T07:20:00Z

fn chart(points: i64) -> Chart {
    Chart {
        title: "myHelloWorld-errors: AWS/Lambda Errors FunctionName=myHelloWorld (Sum)".into(),
        unit: Some("Count".into()),
        points: (0..points)
            .map(|i| {
                let v = if i >= points - 5 {
                    14.0 + (i % 3) as f64
                } else {
                    2.0 + (i % 4) as f64
                };
                (START + i * 60, v)
            })
            .collect(),
        threshold: Some(10.0),
        comparison: Some(Comparison::GreaterThanOrEqual),
        from: START,
        to: START + (points + 1) * 60,
        window: Some((START + (points - 5) * 60, START + points * 60)),
        state_change: Some((START + points * 60, "ALARM".into())),
    }
}

fn quantiles(name: &str, mut run: impl FnMut()) {
    run(); // the font registers once per process
    let mut each: Vec<Duration> = (0..200)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    each.sort();
    let at = |q: f64| each[((each.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!("{name}: median {:.2} ms, p99 {:.2} ms", at(0.5), at(0.99));
}

fn charts(c: &mut Criterion) {
    let alarm = chart(30);
    let day = chart(1440);
    let seven = vec![chart(30); 7];
    quantiles("chart/alarm_30_points", || {
        black_box(png(&alarm).unwrap());
    });
    quantiles("chart/day_1440_points", || {
        black_box(png(&day).unwrap());
    });
    quantiles("chart/stacked_7", || {
        black_box(png_stacked(&seven).unwrap());
    });
    println!(
        "PNG sizes: {} bytes (30 points), {} bytes (1,440 points), {} bytes (7 stacked)",
        png(&alarm).unwrap().len(),
        png(&day).unwrap().len(),
        png_stacked(&seven).unwrap().len()
    );

    let mut group = c.benchmark_group("chart");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("alarm_30_points", |b| b.iter(|| png(black_box(&alarm))));
    group.bench_function("day_1440_points", |b| b.iter(|| png(black_box(&day))));
    group.bench_function("stacked_7", |b| b.iter(|| png_stacked(black_box(&seven))));
    group.finish();
}

criterion_group!(benches, charts);
criterion_main!(benches);
