//! Server-rendered SVG charts for the report pages: payments per month by funding source, counts
//! per area and shares per area. Drawn with plotters' SVG backend into a string that is inlined
//! into the HTML page (no XML prolog; `role="img"` and a `<title>` for screen readers). Text is
//! left to the browser's fonts, with a list of Chinese fonts first, so nothing is read from disk.

use crate::table::share_text;
use guanai_rules::Fen;
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordi32, RangedCoordi64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Fonts for every text in a chart: the browser takes the first one it has.
pub const FONT_FAMILY: &str = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, SimHei, sans-serif";

/// What an empty chart says.
pub const NO_DATA: &str = "无数据 / No data";

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart: {0}")]
    Draw(String),
}

fn drawing<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

const WIDTH: u32 = 800;
/// Font sizes as plotters takes them (it writes `font-size` as the size / 1.24).
const TITLE_SIZE: u32 = 22;
const LABEL_SIZE: u32 = 16;
/// The same sizes in CSS pixels, for estimating text widths.
const LABEL_PX: i32 = 13;
const ROW_PX: u32 = 30;
const CATEGORY_STEP: i32 = 10;

const HIGHER_COLOUR: RGBColor = RGBColor(0x2f, 0x6f, 0xb0);
const COUNTY_COLOUR: RGBColor = RGBColor(0xe0, 0x8a, 0x2c);
const BAR_COLOUR: RGBColor = RGBColor(0x2f, 0x6f, 0xb0);
const TRACK_COLOUR: RGBColor = RGBColor(0xee, 0xee, 0xee);
const GRID_COLOUR: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const TEXT_COLOUR: RGBColor = RGBColor(0x33, 0x33, 0x33);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Payments per month as bars stacked by funding source: `months` holds (month label such as
/// "2026-03", higher-level funds, county finance); `labels` names the two sources for the legend.
/// The y axis is in whole yuan ("12,000"); the title should say so. Negative amounts (recoveries)
/// are stacked below the zero line.
pub fn payments_trend(
    title: &str,
    months: &[(String, Fen, Fen)],
    labels: (&str, &str),
) -> Result<String, ChartError> {
    render(title, (WIDTH, 420), |area| {
        if months.is_empty() {
            return no_data(area);
        }
        let (legend, plot) = area.split_vertically(30);
        draw_legend(
            &legend,
            &[(labels.0, HIGHER_COLOUR), (labels.1, COUNTY_COLOUR)],
        )?;

        // Positive amounts stack up from zero, negative ones down.
        let stacks: Vec<[(i64, i64); 2]> = months
            .iter()
            .map(|(_, higher, county)| {
                let (h, c) = (higher.get(), county.get());
                let (mut up, mut down) = (0i64, 0i64);
                let mut segment = |v: i64| {
                    let base = if v >= 0 { &mut up } else { &mut down };
                    let from = *base;
                    *base = base.saturating_add(v);
                    (from, *base)
                };
                [segment(h), segment(c)]
            })
            .collect();
        let top = stacks
            .iter()
            .flat_map(|s| s.iter().map(|&(a, b)| a.max(b)))
            .max()
            .unwrap_or(0);
        let bottom = stacks
            .iter()
            .flat_map(|s| s.iter().map(|&(a, b)| a.min(b)))
            .min()
            .unwrap_or(0);
        // The axis in whole yuan, then back in fen so the bars keep their exact height.
        let (low, high, step) = axis(bottom.div_euclid(100), ceil_div(top, 100), 6);
        let ticks: Vec<i64> = ticks(low, high, step).map(|y| y * 100).collect();
        let y_label_px = ticks
            .iter()
            .map(|&y| text_px(&thousands(y / 100), LABEL_PX))
            .max()
            .unwrap_or(0);

        let n = months.len();
        let width = to_i32(n) * CATEGORY_STEP;
        let centres: Vec<i32> = (0..to_i32(n))
            .map(|i| i * CATEGORY_STEP + CATEGORY_STEP / 2)
            .collect();
        let plot_px = i32::try_from(WIDTH).unwrap_or(800) - y_label_px - 40;
        let month_px = months
            .iter()
            .map(|(m, _, _)| text_px(m, LABEL_PX) + 10)
            .max()
            .unwrap_or(1);
        let every = usize::try_from(ceil_div(
            i64::from(month_px) * i64::from(to_i32(n)),
            i64::from(plot_px.max(1)),
        ))
        .unwrap_or(1)
        .max(1);
        let shown: Vec<i32> = centres.iter().copied().step_by(every).collect();

        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_right(24)
            .x_label_area_size(30)
            .y_label_area_size(y_label_px + 12)
            .build_cartesian_2d(
                (0..width).with_key_points(shown),
                (low * 100..high * 100).with_key_points(ticks),
            )
            .map_err(drawing)?;
        let month_of = |x: &i32| {
            usize::try_from(x.div_euclid(CATEGORY_STEP))
                .ok()
                .and_then(|i| months.get(i))
                .map(|(m, _, _)| m.clone())
                .unwrap_or_default()
        };
        let yuan = |y: &i64| thousands(y.div_euclid(100));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID_COLOUR)
            .axis_style(TEXT_COLOUR)
            .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT_COLOUR))
            .x_label_formatter(&month_of)
            .y_label_formatter(&yuan)
            .draw()
            .map_err(drawing)?;

        let bars = stacks.iter().enumerate().flat_map(|(i, stack)| {
            let x = to_i32(i) * CATEGORY_STEP;
            stack
                .iter()
                .zip([HIGHER_COLOUR, COUNTY_COLOUR])
                .filter(|((from, to), _)| from != to)
                .map(move |(&(from, to), colour)| {
                    Rectangle::new(
                        [(x + 2, from), (x + CATEGORY_STEP - 2, to)],
                        colour.filled(),
                    )
                })
        });
        chart.draw_series(bars).map_err(drawing)?;
        if low < 0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0, 0), (width, 0)],
                    TEXT_COLOUR,
                )))
                .map_err(drawing)?;
        }
        Ok(())
    })
}

/// Horizontal bars of counts per named item (families per county, say), in the order given, each
/// with its value at the bar's end; `unit` names the axis ("户", "families").
pub fn bars(title: &str, items: &[(String, i64)], unit: &str) -> Result<String, ChartError> {
    render(title, (WIDTH, height_for(items.len())), |area| {
        if items.is_empty() {
            return no_data(area);
        }
        let values = items.iter().map(|(_, v)| *v);
        let (max, min) = (values.clone().max().unwrap_or(0), values.min().unwrap_or(0));
        // Room at the bar ends for the printed values.
        let headroom = (max.max(0) - min.min(0)) / 6 + 1;
        let high = if max > 0 { max + headroom } else { 0 };
        let low = if min < 0 { min - headroom } else { 0 };
        let (low, high, step) = axis(low, high, 6);
        let names: Vec<&str> = items.iter().map(|(name, _)| name.as_str()).collect();
        let mut chart = category_chart(
            area,
            &names,
            (low..high).with_key_points(ticks(low, high, step).collect()),
            unit,
        )?;
        let count_label = |x: &i64| thousands(*x);
        configure(&mut chart, &names, &count_label, unit)?;

        let n = items.len();
        let label_style = (FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT_COLOUR);
        for (i, (_, value)) in items.iter().enumerate() {
            let y = row_of(i, n);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0, y + 2), (*value, y + CATEGORY_STEP - 2)],
                    BAR_COLOUR.filled(),
                )))
                .map_err(drawing)?;
            let (anchor, dx) = if *value < 0 {
                (HPos::Right, -4)
            } else {
                (HPos::Left, 4)
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((*value, y + CATEGORY_STEP / 2))
                        + Text::new(
                            thousands(*value),
                            (dx, 0),
                            label_style.clone().pos(Pos::new(anchor, VPos::Center)),
                        ),
                ))
                .map_err(drawing)?;
        }
        Ok(())
    })
}

/// Horizontal bars of shares in basis points (0..=10000) on a 0–100 % axis, in the order given,
/// each with its percentage at the bar's end; `None` (nothing to divide) is an empty track
/// labelled "—".
pub fn shares(title: &str, items: &[(String, Option<i64>)]) -> Result<String, ChartError> {
    render(title, (WIDTH, height_for(items.len())), |area| {
        if items.is_empty() {
            return no_data(area);
        }
        let names: Vec<&str> = items.iter().map(|(name, _)| name.as_str()).collect();
        // Room past 100 % for the printed value.
        let mut chart = category_chart(
            area,
            &names,
            (0..11_500i64).with_key_points((0..=10_000).step_by(2_000).collect()),
            "",
        )?;
        let percent = |x: &i64| format!("{}%", x / 100);
        configure(&mut chart, &names, &percent, "")?;

        let n = items.len();
        let label_style = (FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT_COLOUR);
        for (i, (_, share)) in items.iter().enumerate() {
            let y = row_of(i, n);
            let track = [(0, y + 2), (10_000, y + CATEGORY_STEP - 2)];
            let end = match share {
                Some(bp) => {
                    let bp = (*bp).clamp(0, 10_000);
                    chart
                        .draw_series([
                            Rectangle::new(track, TRACK_COLOUR.filled()),
                            Rectangle::new(
                                [(0, y + 2), (bp, y + CATEGORY_STEP - 2)],
                                BAR_COLOUR.filled(),
                            ),
                        ])
                        .map_err(drawing)?;
                    bp
                }
                None => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(track, GRID_COLOUR)))
                        .map_err(drawing)?;
                    0
                }
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((end, y + CATEGORY_STEP / 2))
                        + Text::new(
                            share_text(*share),
                            (4, 0),
                            label_style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                        ),
                ))
                .map_err(drawing)?;
        }
        Ok(())
    })
}

type CategoryChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<WithKeyPoints<RangedCoordi64>, WithKeyPoints<RangedCoordi32>>,
>;

/// A chart with the named items down the y axis (first at the top) and a value axis along x.
fn category_chart<'a, 'b>(
    area: &'a Area<'b>,
    names: &[&str],
    x: WithKeyPoints<RangedCoordi64>,
    x_desc: &str,
) -> Result<CategoryChart<'a, 'b>, ChartError> {
    let n = to_i32(names.len());
    let name_px = names
        .iter()
        .map(|name| text_px(name, LABEL_PX))
        .max()
        .unwrap_or(0)
        .clamp(20, 320);
    let centres: Vec<i32> = (0..n)
        .map(|i| i * CATEGORY_STEP + CATEGORY_STEP / 2)
        .collect();
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(10)
        .margin_right(24)
        .y_label_area_size(name_px + 14)
        .x_label_area_size(if x_desc.is_empty() { 28 } else { 48 });
    builder
        .build_cartesian_2d(x, (0..n * CATEGORY_STEP).with_key_points(centres))
        .map_err(drawing)
}

fn configure(
    chart: &mut CategoryChart<'_, '_>,
    names: &[&str],
    x_label: &dyn Fn(&i64) -> String,
    x_desc: &str,
) -> Result<(), ChartError> {
    let n = names.len();
    let name_of = |y: &i32| {
        usize::try_from(y.div_euclid(CATEGORY_STEP))
            .ok()
            .and_then(|row| n.checked_sub(row + 1))
            .and_then(|i| names.get(i))
            .map(|name| (*name).to_owned())
            .unwrap_or_default()
    };
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh()
        .bold_line_style(GRID_COLOUR)
        .axis_style(TEXT_COLOUR)
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT_COLOUR))
        .axis_desc_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT_COLOUR))
        .x_label_formatter(x_label)
        .y_label_formatter(&name_of);
    if !x_desc.is_empty() {
        mesh.x_desc(x_desc);
    }
    mesh.draw().map_err(drawing)
}

/// Draws a chart with its title into an SVG string ready to inline into HTML.
fn render(
    title: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let area = root
            .titled(
                title,
                (FONT_FAMILY, TITLE_SIZE).into_font().color(&TEXT_COLOUR),
            )
            .map_err(drawing)?;
        draw(&area)?;
        root.present().map_err(drawing)?;
    }
    Ok(accessible(&svg, title))
}

/// Adds `role="img"` and a `<title>` to plotters' `<svg …>` element (which has width, height
/// and viewBox and no XML prolog).
fn accessible(svg: &str, title: &str) -> String {
    let svg = svg.trim();
    let Some(open_end) = svg.find('>') else {
        return svg.to_owned();
    };
    let (open, rest) = svg.split_at(open_end);
    let attributes = open.strip_prefix("<svg").unwrap_or(open);
    format!(
        "<svg role=\"img\"{attributes}>\n<title>{}</title>{}",
        escape(title),
        rest.strip_prefix('>').unwrap_or(rest)
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

fn no_data(area: &Area<'_>) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let style = (FONT_FAMILY, LABEL_SIZE + 2)
        .into_font()
        .color(&TEXT_COLOUR)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(
        NO_DATA,
        &style,
        (to_i32(w as usize) / 2, to_i32(h as usize) / 2),
    )
    .map_err(drawing)
}

/// A legend of coloured swatches and labels in a row, centred.
fn draw_legend(area: &Area<'_>, entries: &[(&str, RGBColor)]) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let swatch = 12;
    let gap = 24;
    let widths: Vec<i32> = entries
        .iter()
        .map(|(label, _)| swatch + 6 + text_px(label, LABEL_PX))
        .collect();
    let total: i32 = widths.iter().sum::<i32>() + gap * (to_i32(entries.len()) - 1).max(0);
    let mut x = (to_i32(w as usize) - total).max(0) / 2;
    let y = to_i32(h as usize) / 2;
    let style = (FONT_FAMILY, LABEL_SIZE)
        .into_font()
        .color(&TEXT_COLOUR)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for ((label, colour), width) in entries.iter().zip(&widths) {
        area.draw(&Rectangle::new(
            [(x, y - swatch / 2), (x + swatch, y + swatch / 2)],
            colour.filled(),
        ))
        .map_err(drawing)?;
        area.draw_text(label, &style, (x + swatch + 6, y))
            .map_err(drawing)?;
        x += width + gap;
    }
    Ok(())
}

/// The image height for `n` rows of bars.
fn height_for(n: usize) -> u32 {
    let rows = u32::try_from(n).unwrap_or(u32::MAX / ROW_PX).max(1);
    (110 + ROW_PX.saturating_mul(rows)).max(200)
}

/// The y coordinate of row `i` of `n`, the first at the top.
fn row_of(i: usize, n: usize) -> i32 {
    to_i32(n.saturating_sub(i + 1)) * CATEGORY_STEP
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / CATEGORY_STEP / 2)
}

/// A value axis from `low` to `high` (integers) with ticks every nice step (1, 2 or 5 times a
/// power of ten, about `parts` of them): the widened bounds and the step. The top is widened to a
/// tick; a bottom below zero only to a tenth of a step, so a small recovery does not take a whole
/// step of the chart.
fn axis(low: i64, high: i64, parts: i64) -> (i64, i64, i64) {
    let span = high.saturating_sub(low).max(1);
    let rough = ceil_div(span, parts.max(1));
    let mut magnitude: i64 = 1;
    while magnitude.saturating_mul(10) <= rough {
        magnitude = magnitude.saturating_mul(10);
    }
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| magnitude.saturating_mul(*m))
        .find(|&s| s >= rough)
        .unwrap_or(magnitude.saturating_mul(10))
        .max(1);
    let fine = if high > 0 { (step / 10).max(1) } else { step };
    let low = low.div_euclid(fine).saturating_mul(fine);
    let mut high = ceil_div(high, step).saturating_mul(step);
    if high <= low {
        high = low.saturating_add(step);
    }
    (low, high, step)
}

/// The multiples of `step` from `low` to `high`.
fn ticks(low: i64, high: i64, step: i64) -> impl Iterator<Item = i64> {
    let step = step.max(1);
    let first = ceil_div(low, step);
    let last = high.div_euclid(step);
    (first..=last).map(move |k| k * step)
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// An integer with thousands separators: "12,000", "-1,500".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A rough width of text in pixels at `px`: CJK characters a full em, others about 0.6 em.
/// (Plotters' own estimate without a font library counts bytes, which is far too wide for
/// Chinese; the SVG leaves the actual layout to the browser.)
fn text_px(text: &str, px: i32) -> i32 {
    text.chars()
        .map(|c| {
            if u32::from(c) >= 0x2E80 {
                px
            } else {
                px * 3 / 5
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNTIES: [&str; 13] = [
        "兰山区",
        "罗庄区",
        "河东区",
        "沂南县",
        "郯城县",
        "沂水县",
        "兰陵县",
        "费县",
        "平邑县",
        "莒南县",
        "蒙阴县",
        "临沭县",
        "临沂高新技术产业开发区",
    ];

    fn well_formed(svg: &str, title: &str) {
        assert!(
            svg.starts_with("<svg role=\"img\""),
            "{}",
            &svg[..80.min(svg.len())]
        );
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
        let open = &svg[..svg.find('>').unwrap_or(0)];
        for attribute in [
            "width=\"800\"",
            "height=\"",
            "viewBox=\"0 0 800 ",
            "xmlns=\"http://www.w3.org/2000/svg\"",
        ] {
            assert!(open.contains(attribute), "{attribute} in {open}");
        }
        assert!(svg.contains(&format!("<title>{}</title>", escape(title))));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(svg.contains("font-family=\"Noto Sans CJK SC, Source Han Sans SC"));
    }

    /// The text of every `<text>` element, in order.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn counts_per_county_name_every_county_and_print_their_values() {
        let items: Vec<(String, i64)> = COUNTIES
            .iter()
            .enumerate()
            .map(|(i, c)| ((*c).to_owned(), 100 * i as i64 + 7))
            .collect();
        let svg = bars("各县区特扶家庭户数", &items, "户").expect("chart");
        well_formed(&svg, "各县区特扶家庭户数");
        let texts = texts(&svg);
        assert!(texts.contains(&"各县区特扶家庭户数".to_owned()));
        for (name, value) in &items {
            assert!(texts.contains(name), "{name}");
            assert!(texts.contains(&thousands(*value)), "{value}");
        }
        assert!(texts.contains(&"1,207".to_owned()));
        assert!(texts.contains(&"户".to_owned()));
        // First item at the top: its label is drawn with a smaller y than the last one's.
        let y_of = |label: &str| -> i32 {
            let at = svg.find(&format!(">\n{label}\n</text>")).unwrap_or(0);
            let tag = &svg[svg[..at].rfind("<text").unwrap_or(0)..at];
            let y = &tag[tag.find(" y=\"").unwrap_or(0) + 4..];
            y[..y.find('"').unwrap_or(0)].parse().unwrap_or(-1)
        };
        assert!(
            y_of("兰山区") < y_of("临沭县"),
            "{} {}",
            y_of("兰山区"),
            y_of("临沭县")
        );
    }

    #[test]
    fn shares_show_percent_and_a_dash_for_nothing_to_divide() {
        let items = vec![
            ("兰山区".to_owned(), Some(8750)),
            ("费县".to_owned(), None),
            ("平邑县".to_owned(), Some(10_000)),
            ("蒙阴县".to_owned(), Some(0)),
        ];
        let svg = shares("走访覆盖率", &items).expect("chart");
        well_formed(&svg, "走访覆盖率");
        let texts = texts(&svg);
        for label in [
            "兰山区",
            "费县",
            "平邑县",
            "蒙阴县",
            "87.5%",
            "—",
            "100.0%",
            "0.0%",
            "0%",
            "100%",
            "40%",
        ] {
            assert!(texts.contains(&label.to_owned()), "{label} in {texts:?}");
        }
    }

    #[test]
    fn payments_stack_two_sources_on_a_yuan_axis() {
        let months = vec![
            ("2026-01".to_owned(), Fen(1_200_000), Fen(300_000)),
            ("2026-02".to_owned(), Fen(1_150_050), Fen(310_000)),
            ("2026-03".to_owned(), Fen(1_180_000), Fen(-5)),
        ];
        let svg =
            payments_trend("扶助金发放（元）", &months, ("上级资金", "县级财政")).expect("chart");
        well_formed(&svg, "扶助金发放（元）");
        let texts = texts(&svg);
        for label in [
            "2026-01",
            "2026-02",
            "2026-03",
            "上级资金",
            "县级财政",
            "0",
            "5,000",
            "15,000",
        ] {
            assert!(texts.contains(&label.to_owned()), "{label} in {texts:?}");
        }
        // Six bar segments (one for each non-zero amount) in the two colours.
        assert_eq!(svg.matches("fill=\"#2F6FB0\"").count(), 3 + 1);
        assert_eq!(svg.matches("fill=\"#E08A2C\"").count(), 3 + 1);
    }

    #[test]
    fn recoveries_and_all_negative_months_do_not_panic() {
        let months = vec![
            ("2026-01".to_owned(), Fen(-50_000), Fen(-5)),
            ("2026-02".to_owned(), Fen(0), Fen(0)),
        ];
        let svg = payments_trend("追回", &months, ("a", "b")).expect("chart");
        well_formed(&svg, "追回");
        assert!(texts(&svg).contains(&"-500".to_owned()));
        let all_zero = vec![("2026-01".to_owned(), Fen(0), Fen(0))];
        well_formed(
            &payments_trend("零", &all_zero, ("a", "b")).expect("chart"),
            "零",
        );
        let negative = vec![("费县".to_owned(), -3), ("兰山区".to_owned(), 0)];
        well_formed(&bars("负数", &negative, "").expect("chart"), "负数");
        let odd = vec![("x".to_owned(), Some(-10)), ("y".to_owned(), Some(20_000))];
        well_formed(&shares("越界", &odd).expect("chart"), "越界");
    }

    #[test]
    fn many_months_thin_out_their_labels() {
        let months: Vec<(String, Fen, Fen)> = (0..36)
            .map(|i| {
                (
                    format!("{}-{:02}", 2024 + i / 12, i % 12 + 1),
                    Fen(100_000 * i64::from(i)),
                    Fen(1),
                )
            })
            .collect();
        let svg = payments_trend("三年", &months, ("a", "b")).expect("chart");
        let shown = texts(&svg).iter().filter(|t| t.starts_with("202")).count();
        assert!(shown > 3 && shown < 36, "{shown}");
    }

    #[test]
    fn empty_input_draws_an_empty_chart() {
        for svg in [
            payments_trend("发放", &[], ("a", "b")).expect("chart"),
            bars("户数", &[], "户").expect("chart"),
            shares("覆盖率", &[]).expect("chart"),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(texts(&svg).contains(&NO_DATA.to_owned()));
        }
    }

    #[test]
    fn titles_are_escaped() {
        let svg = bars("<a & \"b\">", &[("x".to_owned(), 1)], "").expect("chart");
        assert!(svg.contains("<title>&lt;a &amp; &quot;b&quot;&gt;</title>"));
        assert!(!svg.contains("<a &"));
    }

    #[test]
    fn axes_are_nice() {
        assert_eq!(axis(0, 15_000, 6), (0, 15_000, 5_000));
        assert_eq!(axis(0, 12_345, 6), (0, 15_000, 5_000));
        assert_eq!(axis(0, 11_000, 6), (0, 12_000, 2_000));
        assert_eq!(axis(0, 0, 6), (0, 1, 1));
        assert_eq!(axis(-501, 0, 6), (-600, 0, 100));
        assert_eq!(axis(-1, 14_800, 6), (-500, 15_000, 5_000));
        assert_eq!(
            ticks(-500, 15_000, 5_000).collect::<Vec<_>>(),
            [0, 5_000, 10_000, 15_000]
        );
        assert_eq!(ticks(-600, 0, 100).count(), 7);
        assert_eq!(thousands(12_000), "12,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(ceil_div(-5, 100), 0);
        assert_eq!(ceil_div(5, 100), 1);
    }
}
