//! The results as a Markdown table (for the README) and as CSV.

use crate::harness::{Row, Status};
use std::fmt::Write;

/// Seconds, with a unit and three significant digits.
pub fn format_time(s: f64) -> String {
    let (v, unit) = if s < 1e-6 {
        (s * 1e9, "ns")
    } else if s < 1e-3 {
        (s * 1e6, "µs")
    } else if s < 1.0 {
        (s * 1e3, "ms")
    } else {
        (s, "s")
    };
    if v < 10.0 {
        format!("{v:.2} {unit}")
    } else if v < 100.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

pub fn format_ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}")
    } else if r < 100.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// Markdown table; the workload and n are printed only when they change.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| workload | n | method | median time | ratio to f64 eval | status |\n");
    out.push_str("|---|---:|---|---:|---:|---|\n");
    let mut last = (String::new(), usize::MAX);
    for r in rows {
        let key = (r.workload.clone(), r.n);
        let (w, n) = if key != last {
            (r.workload.clone(), r.n.to_string())
        } else {
            (String::new(), String::new())
        };
        last = key;
        let time = r.median.map(format_time).unwrap_or_else(|| "—".into());
        let ratio = r.ratio.map(format_ratio).unwrap_or_else(|| "—".into());
        let mut status = r.status.text();
        if let (Status::Ok, Some(note)) = (&r.status, &r.note) {
            status = format!("{status}: {note}");
        }
        let status = status.replace('|', "\\|");
        let method = if r.status == Status::Baseline {
            format!("**{}**", r.method)
        } else {
            r.method.clone()
        };
        let _ = writeln!(
            out,
            "| {w} | {n} | {method} | {time} | {ratio} | {status} |"
        );
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "workload,n,method,median_ns,ratio_to_f64_eval,status,rounds,iters_per_sample,min_ns,max_ns\n",
    );
    for r in rows {
        let median = r
            .median
            .map(|s| format!("{:.2}", s * 1e9))
            .unwrap_or_default();
        let ratio = r.ratio.map(|x| format!("{x:.4}")).unwrap_or_default();
        let (min, max) = r
            .min_max
            .map(|(a, b)| (format!("{:.2}", a * 1e9), format!("{:.2}", b * 1e9)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.workload),
            r.n,
            csv_field(&r.method),
            median,
            ratio,
            csv_field(&r.status.text()),
            r.rounds,
            r.iters,
            min,
            max
        );
    }
    out
}
