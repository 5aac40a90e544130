import Foundation

/// A self-contained HTML page for an `EvaluationResult`: the summary table, a bar chart of
/// per-layer SQNR and a histogram of one tensor's float values with the int8 grid's range
/// marked. Charts are inline SVG drawn here; the page loads nothing from anywhere.
public enum HTMLReport {
    public static func render(_ result: EvaluationResult, title: String = "Quanta accuracy report") -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
            h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
            table { border-collapse: collapse; font-size: 0.9em; }
            td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
            td:first-child, th:first-child { text-align: left; }
            .bad { color: #b00020; font-weight: 600; }
            svg text { font-family: inherit; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>Model <code>\(escape(result.model))</code>, \(result.samples) sample(s): int8 runtime (dequantized) against the float reference.</p>
            <h2>Summary</h2>
            <table><tr><th>figure</th><th>value</th></tr>

            """
        for (i, o) in result.outputs.enumerated() {
            html += row("output \(i) SQNR", formatSQNR(o.sqnr) + " dB")
            html += row("output \(i) cosine similarity", String(format: "%.6f", o.cosine))
            html += row("output \(i) max |error|", String(format: "%.5g", o.maxAbsError))
        }
        if let c = result.classification {
            html += row("top-1 agreement int8 vs float", String(format: "%.2f%% (%d/%d)", 100 * c.agreementRate, c.top1Agreements, c.samples))
            if let f = c.floatCorrect, let q = c.int8Correct, c.samples > 0 {
                html += row("top-1 accuracy float", String(format: "%.2f%%", 100 * Double(f) / Double(c.samples)))
                html += row("top-1 accuracy int8", String(format: "%.2f%%", 100 * Double(q) / Double(c.samples)))
            }
        }
        html += "</table>\n"
        if !result.layers.isEmpty {
            html += "<h2>SQNR per layer</h2>\n<p>Each bar is one intermediate tensor, in execution order; longer is better (blue ≥ 30 dB, amber 20–30 dB, red &lt; 20 dB). Hover for details.</p>\n"
            html += layerChart(result.layers)
        }
        if let h = result.histogram {
            html += "<h2>Values of <code>\(escape(h.tensor))</code></h2>\n<p>Histogram of the float reference's values; the shaded band is the range the int8 grid covers.</p>\n"
            html += histogramChart(h)
        }
        if !result.layers.isEmpty {
            html += "<h2>Per-layer figures</h2>\n<table><tr><th>tensor</th><th>op</th><th>SQNR dB</th><th>cosine</th><th>max |error|</th></tr>\n"
            for l in result.layers {
                let cls = l.agreement.sqnr < 20 ? " class=\"bad\"" : ""
                html += "<tr><td>\(escape(l.tensor))</td><td>\(escape(l.op))</td><td\(cls)>\(formatSQNR(l.agreement.sqnr))</td><td>\(String(format: "%.5f", l.agreement.cosine))</td><td>\(String(format: "%.4g", l.agreement.maxAbsError))</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "</body></html>\n"
        return html
    }

    /// Horizontal bars, one per layer; infinite SQNR (exact) is drawn at the chart's end.
    static func layerChart(_ layers: [LayerAgreement]) -> String {
        let barHeight = 16.0, labelWidth = 300.0, chartWidth = 600.0, top = 24.0
        let finite = layers.map(\.agreement.sqnr).filter { $0.isFinite }
        let maxValue = max(10, ((finite.max() ?? 40) / 10).rounded(.up) * 10)
        let height = top + Double(layers.count) * barHeight + 30
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + chartWidth + 80))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"SQNR per layer\">\n"
        var tick = 0.0
        while tick <= maxValue {
            let x = labelWidth + chartWidth * tick / maxValue
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(height - 26))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top - 8))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(Int(tick))</text>\n"
            tick += maxValue <= 50 ? 5 : 10
        }
        for (i, l) in layers.enumerated() {
            let y = top + Double(i) * barHeight
            let value = l.agreement.sqnr.isFinite ? max(0, l.agreement.sqnr) : maxValue
            let width = chartWidth * min(value, maxValue) / maxValue
            let color = l.agreement.sqnr < 20 ? "#d9534f" : (l.agreement.sqnr < 30 ? "#f0ad4e" : "#4a90d9")
            let label = l.tensor.count > 44 ? "…" + l.tensor.suffix(43) : l.tensor
            svg += "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(y + barHeight - 4))\" font-size=\"11\" text-anchor=\"end\">\(escape(String(label)))</text>"
            svg += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 2))\" width=\"\(f(width))\" height=\"\(f(barHeight - 4))\" fill=\"\(color)\">"
            svg += "<title>\(escape(l.tensor)) (\(escape(l.op))): SQNR \(formatSQNR(l.agreement.sqnr)) dB, cosine \(String(format: "%.5f", l.agreement.cosine))</title></rect>\n"
        }
        svg += "<text x=\"\(f(labelWidth + chartWidth / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">SQNR (dB)</text>\n</svg>\n"
        return svg
    }

    static func histogramChart(_ h: TensorHistogram) -> String {
        let width = 800.0, height = 260.0, left = 50.0, bottom = 30.0, top = 10.0
        let plotW = width - left - 10, plotH = height - bottom - top
        let maxCount = Double(max(1, h.bins.max() ?? 1))
        let span = Double(h.maximum - h.minimum)
        func x(_ v: Float) -> Double { span > 0 ? left + plotW * Double(v - h.minimum) / span : left }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"histogram\">\n"
        let g0 = x(max(h.gridMinimum, h.minimum)), g1 = x(min(h.gridMaximum, h.maximum))
        svg += "<rect x=\"\(f(g0))\" y=\"\(f(top))\" width=\"\(f(max(0, g1 - g0)))\" height=\"\(f(plotH))\" fill=\"#e8f1fb\"><title>int8 grid: \(h.gridMinimum) … \(h.gridMaximum)</title></rect>\n"
        let binW = plotW / Double(h.bins.count)
        for (i, c) in h.bins.enumerated() where c > 0 {
            // Log scale keeps outliers visible next to the bulk.
            let hgt = plotH * log1p(Double(c)) / log1p(maxCount)
            svg += "<rect x=\"\(f(left + Double(i) * binW))\" y=\"\(f(top + plotH - hgt))\" width=\"\(f(max(1, binW - 0.5)))\" height=\"\(f(hgt))\" fill=\"#4a90d9\"><title>\(c)</title></rect>"
        }
        svg += "\n<line x1=\"\(f(g0))\" y1=\"\(f(top))\" x2=\"\(f(g0))\" y2=\"\(f(top + plotH))\" stroke=\"#d9534f\" stroke-width=\"2\"/>"
        svg += "<line x1=\"\(f(g1))\" y1=\"\(f(top))\" x2=\"\(f(g1))\" y2=\"\(f(top + plotH))\" stroke=\"#d9534f\" stroke-width=\"2\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        for v in [h.minimum, (h.minimum + h.maximum) / 2, h.maximum] {
            svg += "<text x=\"\(f(x(v)))\" y=\"\(f(height - 12))\" font-size=\"11\" text-anchor=\"middle\">\(String(format: "%.3g", v))</text>"
        }
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(top + 10))\" font-size=\"11\" text-anchor=\"end\">\(Int(maxCount))</text>"
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(top + plotH))\" font-size=\"11\" text-anchor=\"end\">0</text>\n</svg>\n"
        return svg
    }

    private static func row(_ name: String, _ value: String) -> String {
        "<tr><td>\(escape(name))</td><td>\(escape(value))</td></tr>\n"
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
