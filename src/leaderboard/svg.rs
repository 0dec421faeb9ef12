//! SVG figures, drawn as plain SVG elements (text is SVG `<text>`, so no font is needed to
//! make them) and escaped by the template engine.

use maud::{Markup, html};

/// Fill colours of the arms, in arm order (repeating).
const COLOURS: [&str; 6] = [
    "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
];

/// The colour of arm `i`.
pub fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// One value with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub value: f64,
    pub ci: (f64, f64),
}

/// A bar chart: per group (a probe cell), one bar per arm with an interval whisker. `y` is
/// the axis range; `None` values are drawn as absent.
pub fn bars(
    title: &str,
    arms: &[String],
    groups: &[(String, Vec<Option<Point>>)],
    y: (f64, f64),
) -> Markup {
    let (bar, gap, left, top, plot_h, bottom) = (12.0, 14.0, 48.0, 28.0, 180.0, 150.0);
    let group_w = bar * arms.len() as f64 + gap;
    // Room on the right for the last group's slanted label.
    let width = left + group_w * groups.len() as f64 + 110.0;
    let height = top + plot_h + bottom;
    let sy = |v: f64| top + plot_h * (1.0 - (v.clamp(y.0, y.1) - y.0) / (y.1 - y.0));
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="figure" width=(width) height=(height + 20.0 * arms.len().div_ceil(4) as f64)
            viewBox=(format!("0 0 {width} {}", height + 20.0 * arms.len().div_ceil(4) as f64)) role="img" {
            title { (title) }
            text x=(left) y="16" class="fig-title" { (title) }
            (axis(left, top, plot_h, width - 8.0, y, sy))
            @for (g, (label, points)) in groups.iter().enumerate() {
                @let x0 = left + gap / 2.0 + g as f64 * group_w;
                @for (a, p) in points.iter().enumerate() {
                    @if let Some(p) = p.filter(|p| p.value.is_finite()) {
                        @let x = x0 + a as f64 * bar;
                        g class="bar" data-arm=(arms[a]) data-group=(label) data-value=(p.value)
                            data-low=(p.ci.0) data-high=(p.ci.1) {
                            title { (format!("{} / {}: {:.3} [{:.3}, {:.3}]", label, arms[a], p.value, p.ci.0, p.ci.1)) }
                            rect x=(x) y=(sy(p.value)) width=(bar - 2.0) height=((sy(y.0) - sy(p.value)).max(0.0)) fill=(colour(a)) {}
                            line x1=(x + bar / 2.0 - 1.0) x2=(x + bar / 2.0 - 1.0) y1=(sy(p.ci.0)) y2=(sy(p.ci.1)) class="whisker" {}
                        }
                    }
                }
                text class="tick" transform=(format!("translate({},{}) rotate(55)", x0 + 2.0, top + plot_h + 10.0)) { (label) }
            }
            (legend(arms, left, height))
        }
    }
}

/// A line per arm over a swept variable, with its interval as a band.
pub fn sweep(
    title: &str,
    var: &str,
    arms: &[String],
    series: &[Vec<(f64, Point)>],
    y: (f64, f64),
) -> Markup {
    let (left, top, plot_w, plot_h) = (48.0, 28.0, 520.0, 200.0);
    let xs: Vec<f64> = series.iter().flatten().map(|(x, _)| *x).collect();
    let (x_lo, x_hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let span = if x_hi > x_lo { x_hi - x_lo } else { 1.0 };
    let sx = |x: f64| left + plot_w * (x - x_lo) / span;
    let sy = |v: f64| top + plot_h * (1.0 - (v.clamp(y.0, y.1) - y.0) / (y.1 - y.0));
    let height = top + plot_h + 44.0 + 20.0 * arms.len().div_ceil(4) as f64;
    let width = left + plot_w + 24.0;
    let ticks: Vec<f64> = {
        let mut t: Vec<f64> = xs.clone();
        t.sort_by(f64::total_cmp);
        t.dedup();
        let step = t.len().div_ceil(8).max(1);
        t.into_iter().step_by(step).collect()
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="figure" width=(width) height=(height)
            viewBox=(format!("0 0 {width} {height}")) role="img" {
            title { (title) }
            text x=(left) y="16" class="fig-title" { (title) }
            (axis(left, top, plot_h, left + plot_w, y, sy))
            @for t in &ticks {
                text class="tick" x=(sx(*t)) y=(top + plot_h + 16.0) text-anchor="middle" { (t) }
            }
            text class="tick" x=(left + plot_w / 2.0) y=(top + plot_h + 32.0) text-anchor="middle" { (var) }
            @for (a, points) in series.iter().enumerate() {
                @let band: Vec<String> = points.iter().map(|(x, p)| format!("{},{}", sx(*x), sy(p.ci.1)))
                    .chain(points.iter().rev().map(|(x, p)| format!("{},{}", sx(*x), sy(p.ci.0)))).collect();
                @let line: Vec<String> = points.iter().map(|(x, p)| format!("{},{}", sx(*x), sy(p.value))).collect();
                polygon points=(band.join(" ")) fill=(colour(a)) fill-opacity="0.2" stroke="none" {}
                polyline points=(line.join(" ")) fill="none" stroke=(colour(a)) stroke-width="2" {}
                @for (x, p) in points {
                    circle class="point" cx=(sx(*x)) cy=(sy(p.value)) r="2.5" fill=(colour(a))
                        data-arm=(arms[a]) data-x=(x) data-value=(p.value) data-low=(p.ci.0) data-high=(p.ci.1) {
                        title { (format!("{} = {}, {}: {:.3} [{:.3}, {:.3}]", var, x, arms[a], p.value, p.ci.0, p.ci.1)) }
                    }
                }
            }
            (legend(arms, left, top + plot_h + 44.0))
        }
    }
}

/// The y axis with five gridlines.
fn axis(
    left: f64,
    top: f64,
    plot_h: f64,
    right: f64,
    y: (f64, f64),
    sy: impl Fn(f64) -> f64,
) -> Markup {
    html! {
        @for i in 0..=4 {
            @let v = y.0 + (y.1 - y.0) * i as f64 / 4.0;
            line class="grid" x1=(left) x2=(right) y1=(sy(v)) y2=(sy(v)) {}
            text class="tick" x=(left - 4.0) y=(sy(v) + 4.0) text-anchor="end" { (format!("{v:.2}")) }
        }
        line class="axis" x1=(left) x2=(left) y1=(top) y2=(top + plot_h) {}
    }
}

/// Arm names with their colours, four to a line.
fn legend(arms: &[String], left: f64, y0: f64) -> Markup {
    html! {
        @for (a, name) in arms.iter().enumerate() {
            @let (x, y) = (left + (a % 4) as f64 * 130.0, y0 + 14.0 + (a / 4) as f64 * 20.0);
            rect x=(x) y=(y - 10.0) width="10" height="10" fill=(colour(a)) {}
            text class="tick" x=(x + 14.0) y=(y) { (name) }
        }
    }
}
