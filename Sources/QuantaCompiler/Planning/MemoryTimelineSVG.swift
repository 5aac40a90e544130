import Foundation

/// The memory timeline of an arena plan as a self-contained SVG document (for
/// `quanta inspect --svg FILE`): ops along x in execution order, arena offsets along y
/// (offset 0 at the bottom), one `<rect class="buffer">` per request spanning its lifetime
/// and its bytes, with a `<title>` tooltip (name, size, offset range, steps and ops, in-place
/// partner). The step where the lower bound is reached is shaded (`class="peak"`), a dashed
/// line marks the lower bound (`class="lower-bound"`), a solid one the arena size.
///
/// The output is well-formed XML (names are escaped) and uses no scripts, fonts or
/// external resources.
public enum MemoryTimelineSVG {
    /// - Parameters:
    ///   - bufferNames: one name per request (tensor or scratch names); missing ones are
    ///     shown as `buffer N`.
    ///   - opNames: one name per step; missing ones are shown as `op N`.
    ///   - naiveLowerBound: when given, a dotted line (`class="naive-bound"`) at the lower
    ///     bound of any plan of whole tensors (`NaivePlan`).
    ///   - fusedSteps: steps that run a fused block (shaded `class="fused"` with the block's
    ///     name as tooltip).
    public static func render(
        requests: [BufferRequest], plan: ArenaPlan, bufferNames: [String] = [], opNames: [String] = [],
        naiveLowerBound: Int? = nil, fusedSteps: Set<Int> = []
    ) -> String {
        var scalePlan = plan
        if let naive = naiveLowerBound { scalePlan.arenaSize = max(plan.arenaSize, naive) }
        let layout = Layout(requests: requests, plan: scalePlan, opCount: opNames.count)
        func bufferName(_ i: Int) -> String { i < bufferNames.count ? bufferNames[i] : "buffer \(i)" }
        func opName(_ s: Int) -> String { s >= 0 && s < opNames.count ? opNames[s] : "op \(s)" }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(layout.width))" height="\(fmt(layout.height))" \
            viewBox="0 0 \(fmt(layout.width)) \(fmt(layout.height))" font-family="sans-serif" font-size="11">
            <title>Arena memory timeline: \(bytes(plan.arenaSize)) arena, lower bound \(bytes(plan.lowerBound))</title>
            <style>
            .buffer { stroke: #333; stroke-width: 0.5; }
            .buffer:hover { stroke: #000; stroke-width: 2; }
            .inplace { stroke-dasharray: 3 2; }
            .peak { fill: #ffd54f; fill-opacity: 0.35; }
            .fused { fill: #80cbc4; fill-opacity: 0.25; }
            .naive-bound { stroke: #6a1b9a; stroke-width: 1.5; stroke-dasharray: 2 3; }
            .lower-bound { stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 6 4; }
            .arena { stroke: #1565c0; stroke-width: 1.5; }
            .axis { stroke: #000; stroke-width: 1; }
            .grid { stroke: #ccc; stroke-width: 0.5; }
            </style>
            <rect x="0" y="0" width="\(fmt(layout.width))" height="\(fmt(layout.height))" fill="#fff"/>
            <text x="\(fmt(layout.left))" y="20" font-size="14">Arena \(escape(bytes(plan.arenaSize))), \
            lower bound \(escape(bytes(plan.lowerBound))) (\(escape(ratio(plan))))</text>

            """

        // Peak step, behind everything else.
        let profile = MemoryPlanner.liveProfile(requests)
        if let peak = profile.peakStep {
            svg += """
                <rect class="peak" x="\(fmt(layout.x(peak)))" y="\(fmt(layout.top))" width="\(fmt(layout.stepWidth))" \
                height="\(fmt(layout.plotHeight))"><title>peak: \(escape(bytes(profile.peakBytes))) alive at step \(peak) \
                (\(escape(opName(peak))))</title></rect>

                """
        }

        // Fused blocks, behind the buffers.
        for step in fusedSteps.sorted() {
            svg += """
                <rect class="fused" x="\(fmt(layout.x(step)))" y="\(fmt(layout.top))" width="\(fmt(layout.stepWidth))" \
                height="\(fmt(layout.plotHeight))"><title>fused block: \(escape(opName(step)))</title></rect>

                """
        }

        // Y grid and tick labels.
        let unit = axisUnit(max(plan.arenaSize, plan.lowerBound, 1))
        for tick in layout.yTicks {
            let y = layout.y(tick)
            svg += """
                <line class="grid" x1="\(fmt(layout.left))" y1="\(fmt(y))" x2="\(fmt(layout.left + layout.plotWidth))" y2="\(fmt(y))"/>
                <text x="\(fmt(layout.left - 6))" y="\(fmt(y + 4))" text-anchor="end">\(tick / unit.bytes) \(unit.name)</text>

                """
        }

        // Buffers.
        let inPlace = Dictionary(
            MemoryPlanner.inPlaceReuses(requests, offsets: plan.offsets).map { ($0.buffer, $0.reused) },
            uniquingKeysWith: { a, _ in a })
        for (i, r) in requests.enumerated() where i < plan.offsets.count {
            let offset = plan.offsets[i]
            let x = layout.x(r.firstStep)
            let w = layout.stepWidth * Double(r.lastStep - r.firstStep + 1)
            let y = layout.y(offset + r.size)
            let h = max(0.5, layout.y(offset) - y)
            var tip = "\(bufferName(i)) (#\(i)): \(bytes(r.size)) at \(offset)..<\(offset + r.size), "
            tip += r.firstStep == r.lastStep
                ? "step \(r.firstStep) (\(opName(r.firstStep)))"
                : "steps \(r.firstStep)-\(r.lastStep) (\(opName(r.firstStep)) to \(opName(r.lastStep)))"
            if let reused = inPlace[i] { tip += ", in place over \(bufferName(reused)) (#\(reused))" }
            let classes = inPlace[i] == nil ? "buffer" : "buffer inplace"
            svg += """
                <rect class="\(classes)" x="\(fmt(x))" y="\(fmt(y))" width="\(fmt(w))" height="\(fmt(h))" \
                fill="\(color(i))"><title>\(escape(tip))</title></rect>

                """
        }

        // Arena top and lower bound.
        let arenaY = layout.y(plan.arenaSize), boundY = layout.y(plan.lowerBound)
        let right = layout.left + layout.plotWidth
        svg += """
            <line class="arena" x1="\(fmt(layout.left))" y1="\(fmt(arenaY))" x2="\(fmt(right))" y2="\(fmt(arenaY))">\
            <title>arena size \(escape(bytes(plan.arenaSize)))</title></line>
            <line class="lower-bound" x1="\(fmt(layout.left))" y1="\(fmt(boundY))" x2="\(fmt(right))" y2="\(fmt(boundY))">\
            <title>lower bound \(escape(bytes(plan.lowerBound)))</title></line>
            <text x="\(fmt(right - 4))" y="\(fmt(boundY + 12))" text-anchor="end" fill="#c62828">lower bound</text>

            """
        if let naive = naiveLowerBound {
            let naiveY = layout.y(naive)
            svg += """
                <line class="naive-bound" x1="\(fmt(layout.left))" y1="\(fmt(naiveY))" x2="\(fmt(right))" y2="\(fmt(naiveY))">\
                <title>naive lower bound of whole tensors \(escape(bytes(naive)))</title></line>
                <text x="\(fmt(layout.left + 4))" y="\(fmt(naiveY - 4))" fill="#6a1b9a">naive bound (whole tensors)</text>

                """
        }

        // Axes, op labels, axis titles.
        let bottom = layout.top + layout.plotHeight
        svg += """
            <line class="axis" x1="\(fmt(layout.left))" y1="\(fmt(layout.top))" x2="\(fmt(layout.left))" y2="\(fmt(bottom))"/>
            <line class="axis" x1="\(fmt(layout.left))" y1="\(fmt(bottom))" x2="\(fmt(right))" y2="\(fmt(bottom))"/>

            """
        for step in stride(from: layout.firstStep, through: layout.lastStep, by: layout.labelEvery) {
            let cx = layout.x(step) + layout.stepWidth / 2
            svg += """
                <text x="\(fmt(cx))" y="\(fmt(bottom + 10))" text-anchor="end" \
                transform="rotate(-60 \(fmt(cx)) \(fmt(bottom + 10)))">\(escape("\(step) \(opName(step))"))</text>

                """
        }
        svg += """
            <text x="\(fmt(layout.left + layout.plotWidth / 2))" y="\(fmt(layout.height - 8))" text-anchor="middle">\
            op (execution order)</text>
            <text x="16" y="\(fmt(layout.top + layout.plotHeight / 2))" text-anchor="middle" \
            transform="rotate(-90 16 \(fmt(layout.top + layout.plotHeight / 2)))">arena offset (bytes)</text>
            </svg>

            """
        return svg
    }

    /// Geometry: margins, the scale of steps and bytes, tick positions.
    struct Layout {
        let firstStep: Int, lastStep: Int
        let left = 80.0, top = 36.0, right = 20.0, bottomMargin = 130.0
        let stepWidth: Double, plotWidth: Double, plotHeight = 420.0
        let bytesPerUnit: Double  // vertical scale: plot units per byte
        let yTicks: [Int]
        let labelEvery: Int

        init(requests: [BufferRequest], plan: ArenaPlan, opCount: Int) {
            firstStep = min(0, requests.map(\.firstStep).min() ?? 0)
            lastStep = max(opCount - 1, requests.map(\.lastStep).max() ?? 0, firstStep)
            let steps = lastStep - firstStep + 1
            // 400...1600 px wide where possible, at least 3 px per step.
            stepWidth = max(3, min(1600, max(400, 40 * Double(steps))) / Double(steps))
            plotWidth = stepWidth * Double(steps)
            let top = max(plan.arenaSize, plan.lowerBound, 1)
            bytesPerUnit = plotHeight / Double(top)
            // About five ticks at 1, 2 or 5 × 10^k of the unit the axis is labelled in.
            let unit = MemoryTimelineSVG.axisUnit(top).bytes
            var step = 1
            while top / (step * unit) > 5 {
                step = String(step).first == "2" ? step / 2 * 5 : step * 2
            }
            yTicks = Array(stride(from: 0, through: top, by: step * unit))
            labelEvery = max(1, Int((12 / stepWidth).rounded(.up)))
        }

        var width: Double { left + plotWidth + right }
        var height: Double { top + plotHeight + bottomMargin }
        func x(_ step: Int) -> Double { left + Double(step - firstStep) * stepWidth }
        func y(_ offset: Int) -> Double { top + plotHeight - Double(offset) * bytesPerUnit }
    }

    /// XML text and attribute escaping.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Control characters other than tab, newline, return are not allowed in XML 1.0.
            case _ where ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r": out += "?"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// The unit of the offset axis: KiB from 4 KiB, MiB from 4 MiB, else bytes.
    static func axisUnit(_ top: Int) -> (bytes: Int, name: String) {
        if top >= 4 << 20 { return (1 << 20, "MiB") }
        if top >= 4 << 10 { return (1 << 10, "KiB") }
        return (1, "B")
    }

    static func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

    /// `1234 B`, `12.1 KiB`, `3.40 MiB`.
    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return String(format: "%.1f KiB", Double(n) / 1024) }
        return String(format: "%.2f MiB", Double(n) / (1024 * 1024))
    }

    static func ratio(_ plan: ArenaPlan) -> String {
        plan.lowerBound == 0 ? "no live bytes" : String(format: "%.3f × bound", Double(plan.arenaSize) / Double(plan.lowerBound))
    }

    /// A distinct, light fill per buffer (golden-angle hues).
    static func color(_ i: Int) -> String {
        let hue = (Double(i) * 137.508).truncatingRemainder(dividingBy: 360)
        return "hsl(\(Int(hue)),65%,72%)"
    }
}
