"""The ``fxsim`` command (also ``python -m fxsim``).

Exit codes: 0 ok, 1 a comparison failed the user's threshold, 2 usage or input error (a
one-line message naming the file, flag or tensor; no traceback).
"""

import argparse
import os
import sys

from .errors import FxsimError


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="fxsim",
        description="Bit-exact fixed-point simulation of quantized neural networks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo = sub.add_parser(
        "demo",
        help="run the embedded end-to-end example (no files needed)",
        description="Calibrate a small CNN trained on handwritten digits (shipped with fxsim), "
        "run it with the integer arithmetic of several targets, print float vs each target's "
        "accuracy and the worst layers, and write an HTML report.",
    )
    demo.add_argument("--samples", type=int, default=None, help="test images to run (default: all 360)")
    demo.add_argument("--report", metavar="PATH", default=None,
                      help="where to write the HTML report (default: fxsim-demo/report.html in the temp directory)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    targets = sub.add_parser(
        "targets",
        help="list the target profiles, or describe one",
        description="Without --target: one line per built-in profile. With --target: every "
        "field of that profile with its status (verified / documented / assumed) and source.",
    )
    targets.add_argument("--json", action="store_true", help="print JSON (fields, values, status, source)")
    targets.add_argument("--target", metavar="NAME_OR_FILE", default=None,
                         help="a built-in profile name or a .toml profile file to describe")
    inspect = sub.add_parser(
        "inspect",
        help="a model's ops, tensor shapes, encodings and (with --target) how each node would run",
        description="Load a float ONNX model and print its graph after loading (constants and "
        "shape subgraphs folded, BatchNorm folded): nodes, op types, shapes, and the op counts.",
    )
    inspect.add_argument("--input_network", required=True, metavar="MODEL", help="the .onnx model")
    _add_input_dim_argument(inspect)
    inspect.add_argument("--encodings", default=None, metavar="FILE",
                         help="an encodings JSON: show each tensor's encoding")
    inspect.add_argument("--target", default=None, metavar="NAME_OR_FILE",
                         help="with --encodings (or a quantized model): how each node runs on this target")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_quantize_parser(sub)
    _add_run_parsers(sub)
    return parser


def _add_model_arguments(p, encodings_required=False):
    p.add_argument("--input_network", required=True, metavar="MODEL", help="an ONNX model (float, QDQ or QOperator)")
    p.add_argument("--encodings", required=encodings_required, default=None, metavar="FILE",
                   help="AIMET encodings JSON (any version); optional for already-quantized models")
    p.add_argument("--target", default="exact", metavar="NAME_OR_FILE", help="target profile (default: exact)")
    p.add_argument("--input_list", required=True, metavar="FILE", help="a QNN input list (raw float32 files)")
    _add_input_dim_argument(p)
    p.add_argument("--input_layout", default="NCHW", choices=("NCHW", "NHWC"),
                   help="layout of the 4-D raw input files (default NCHW)")
    p.add_argument("--adapt", action="store_true",
                   help="requantize encodings the target cannot take losslessly (reported), instead of an error")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_run_parsers(sub):
    run = sub.add_parser(
        "run", help="run a model with a target's integer arithmetic over an input list",
        description="Like qnn-net-run: one output_dir/Result_N/ per input line, one <tensor>.raw per output "
        "(float32, dequantized), plus the integer codes as <tensor>.int.raw with --output_integers. "
        "Output selector lines of the input list (#name or %name) choose intermediate tensors.")
    _add_model_arguments(run)
    run.add_argument("--output_dir", required=True, metavar="DIR")
    run.add_argument("--output_integers", action="store_true", help="also write the integer codes")
    run.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    cmp = sub.add_parser(
        "compare", help="float vs fixed point per layer, optionally against device outputs, with a report",
        description="Run the float model and the target's fixed-point simulation over the input list and print "
        "per-tensor SQNR, clipping and saturation (--mode cumulative or isolated); --report writes HTML or "
        "Markdown with plots; --golden_dir compares the simulation with a qnn-net-run Result_N tree; "
        "--min_sqnr fails (exit 1) when an output falls below it.")
    _add_model_arguments(cmp)
    cmp.add_argument("--mode", default="cumulative", choices=("cumulative", "isolated"))
    cmp.add_argument("--also_target", action="append", default=[], metavar="NAME_OR_FILE",
                     help="compare another target too (repeatable): the report shows them side by side and "
                     "where the first two targets' integers first differ")
    cmp.add_argument("--report", default=None, metavar="FILE", help="write a report (.html or .md)")
    cmp.add_argument("--golden_dir", default=None, metavar="DIR", help="device outputs (a Result_N tree) to diff with")
    cmp.add_argument("--golden_layout", default="NHWC", choices=("NHWC", "NCHW"),
                     help="layout of 4-D tensors in the golden files (default NHWC, as qnn-net-run writes)")
    cmp.add_argument("--min_sqnr", type=float, default=None, metavar="DB",
                     help="exit 1 when any output's SQNR is below this many dB")
    cmp.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a table")


def _load_for_run(args):
    import fxsim as fx

    graph = fx.load(args.input_network, input_shapes=_parse_dims(args.input_dim) or None)
    encs = None
    if args.encodings:
        encs = fx.load_encodings(args.encodings, graph, unknown="report")
    elif not getattr(graph, "encodings", None):
        raise FxsimError(f"--encodings: {args.input_network} is a float model; give its encodings")
    inputs = fx.read_input_list(args.input_list, graph, layout=args.input_layout)
    return fx, graph, encs, inputs


def _progress_bar(args, total, desc):
    if args.quiet:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr)

    def progress(done, steps):
        if bar.total != steps:  # isolated mode counts nodes, not inputs
            bar.total = steps
            bar.refresh()
        bar.update(done - bar.n)

    return bar, progress


def _run_command(args):
    import numpy as np

    from .io import sanitize_tensor_name

    fx, graph, encs, inputs = _load_for_run(args)
    sim = fx.Simulator(graph, encs, target=args.target, adapt=args.adapt)
    wanted = list(inputs.output_tensors or []) or list(graph.outputs)
    bar, _ = _progress_bar(args, len(inputs), "running")
    try:
        for number, feeds in enumerate(inputs):
            codes = sim.run(feeds, keep=wanted)
            folder = os.path.join(args.output_dir, f"Result_{number}")
            os.makedirs(folder, exist_ok=True)
            for name in wanted:
                value = codes[name]
                enc = sim.encodings.get(graph.resolve(name))
                if isinstance(enc, fx.Encoding) and np.issubdtype(value.dtype, np.integer):
                    fx.dequantize(value, enc, name=name).tofile(os.path.join(folder, sanitize_tensor_name(name) + ".raw"))
                    if args.output_integers:
                        value.tofile(os.path.join(folder, sanitize_tensor_name(name) + ".int.raw"))
                else:
                    np.asarray(value, np.float32).tofile(os.path.join(folder, sanitize_tensor_name(name) + ".raw"))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        import json

        print(json.dumps({"output_dir": args.output_dir, "results": len(inputs), "tensors": wanted,
                          "target": sim.target.name,
                          "lowerings": {n.name: low.kind for n, low in zip(sim.graph.nodes, sim.lowerings)}},
                         indent=1))
    else:
        print(f"wrote {len(inputs)} result folders ({len(wanted)} tensors each) to {args.output_dir}")
    return 0


def _compare_command(args):
    import json

    import numpy as np

    fx, graph, encs, inputs = _load_for_run(args)
    batches = list(inputs)
    targets = [args.target] + list(args.also_target or [])
    encodings = encs if encs is not None else graph.encodings
    reports = []
    for target in targets:
        bar, progress = _progress_bar(args, len(batches), f"compare {target} ({args.mode})")
        try:
            reports.append(fx.compare(graph, encodings, batches, target=target, mode=args.mode, adapt=args.adapt,
                                      progress=progress))
        finally:
            if bar is not None:
                bar.close()
    rep = reports[0]
    divergence = None
    sim = fx.Simulator(graph, encodings, target=args.target, adapt=args.adapt)
    if len(targets) > 1:
        # where the first two targets' integers first part, input by input
        other = fx.Simulator(graph, encodings, target=targets[1], adapt=args.adapt)
        for number, feeds in enumerate(batches):
            found = fx.diff(sim.run(feeds, keep="all"), other.run(feeds, keep="all"), sim.graph)
            if found is not None:
                divergence = found
                print(f"input {number}: {targets[0]} and {targets[1]} first differ at {found}")
                break
        else:
            print(f"{targets[0]} and {targets[1]} give the same integers on all {len(batches)} inputs")
    if args.golden_dir:
        golden = fx.load_outputs(args.golden_dir, graph, layout=args.golden_layout)
        golden = golden if isinstance(golden, list) else [golden]
        for number, (feeds, gold) in enumerate(zip(batches, golden)):
            ours = sim.run(feeds, dequantize=True, keep=list(gold))
            found = fx.diff(ours, gold, graph, atol=0.0)
            if found is not None:
                divergence = found
                print(f"Result_{number}: first difference from the golden outputs: {found}")
                break
        else:
            print(f"golden outputs: all {min(len(batches), len(golden))} results equal the simulation")
    if args.json:
        print(json.dumps({name: {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                                 for k, v in m.as_dict().items() if k not in ("histogram", "encoding_range")}
                          for name, m in rep.tensors.items()}, indent=1))
    else:
        print(rep.table())
    if args.report:
        from .report import write_report

        write_report(args.report, reports, title=f"fxsim compare: {os.path.basename(args.input_network)}",
                     divergence=divergence)
        print(f"report: {args.report}")
    if args.min_sqnr is not None:
        low = [n for n in rep.outputs if n in rep.tensors and rep.tensors[n].sqnr_db < args.min_sqnr]
        if low:
            print(f"fxsim compare: outputs below --min_sqnr {args.min_sqnr} dB: "
                  + ", ".join(f"{n} ({rep.tensors[n].sqnr_db:.2f} dB)" for n in low), file=sys.stderr)
            return 1
    return 0


def _inspect_command(args):
    import json

    from .frontends import load

    graph = load(args.input_network, input_shapes=_parse_dims(args.input_dim) or None)
    encs = dict(getattr(graph, "encodings", {}) or {})
    if args.encodings:
        from .io import load_encodings

        encs.update(load_encodings(args.encodings, graph, unknown="report"))
    lowerings = None
    if args.target is not None:
        from .runtime import Simulator

        if not encs:
            raise FxsimError("--target: give --encodings (or inspect a quantized model)")
        sim = Simulator(graph, encs, target=args.target)
        lowerings = [(n.name, n.op_type, low.kind, low.arithmetic) for n, low in zip(sim.graph.nodes, sim.lowerings)]
    if args.json:
        print(json.dumps({
            "inputs": {n: list(graph.tensors[n].shape) for n in graph.inputs},
            "outputs": {n: list(graph.tensors[n].shape) for n in graph.outputs},
            "nodes": [{"name": n.name, "op_type": n.op_type, "inputs": list(n.inputs), "outputs": list(n.outputs),
                       "shapes": [list(graph.tensors[o].shape) for o in n.outputs if o]} for n in graph.nodes],
            "op_counts": dict(graph.op_types()),
            "encodings": {name: repr(enc) for name, enc in encs.items()},
            "lowerings": [dict(zip(("node", "op_type", "kind", "arithmetic"), row)) for row in lowerings or []],
        }, indent=1))
    else:
        print(graph.summary())
        if encs:
            print(f"encodings ({len(encs)}):")
            for name, enc in encs.items():
                print(f"  {name}: {enc!r}")
        if lowerings:
            print(f"on target {args.target}:")
            for name, op_type, kind, arithmetic in lowerings:
                print(f"  {name} ({op_type}): {kind}: {arithmetic}")
    return 0


ALGORITHMS = ("cle", "bc")
QUANTIZER_CHOICES = ("tf", "symmetric", "enhanced", "adjusted", "percentile", "mse", "kl", "distfit", "pot", "pot_mode")


def _add_quantize_parser(sub):
    q = sub.add_parser(
        "quantize",
        help="calibrate encodings from an input list and write them as AIMET JSON",
        description="Run the float model over the calibration inputs, compute an encoding for every "
        "tensor and write an AIMET encodings file. Flag names follow the QNN converters; both the "
        "older --act_bw/--weight_bw/--bias_bw and the newer --act_bitwidth/--weights_bitwidth/"
        "--bias_bitwidth spellings are accepted.",
    )
    q.add_argument("--input_network", required=True, metavar="MODEL", help="an ONNX float model")
    q.add_argument("--input_list", required=True, metavar="FILE",
                   help="a QNN input list: one inference per line, name:=path.raw for several inputs")
    q.add_argument("--output_encodings", required=True, metavar="FILE", help="the encodings JSON to write")
    q.add_argument("--target", default=None, metavar="NAME_OR_FILE",
                   help="make the encodings satisfy this target profile's constraints")
    q.add_argument("--act_quantizer", default="tf", choices=QUANTIZER_CHOICES)
    q.add_argument("--param_quantizer", default="tf", choices=QUANTIZER_CHOICES[:-1])
    q.add_argument("--act_bw", "--act_bitwidth", dest="act_bw", type=int, default=8, choices=(8, 16))
    q.add_argument("--weight_bw", "--weights_bitwidth", dest="weight_bw", type=int, default=8, choices=(4, 8, 16))
    q.add_argument("--bias_bw", "--bias_bitwidth", dest="bias_bw", type=int, default=32, choices=(8, 32, 64))
    q.add_argument("--reduce_range", action="store_true",
                   help="weights with one bit less, stored at --weight_bw (ONNX Runtime's reduce_range: no int16 "
                        "pair saturation on x86 CPUs without VNNI, the onnxruntime and fbgemm profiles)")
    q.add_argument("--percentile_calibration_value", type=float, default=99.99,
                   help="the percentile of --act_quantizer/--param_quantizer percentile (default 99.99)")
    q.add_argument("--per_tensor", action="store_true", help="per-tensor weights (default: per-channel)")
    q.add_argument("--compat", default="qnn", choices=("qnn", "aimet"),
                   help="qnn: the QNN document's formulas; aimet: AIMET 2.x's formulas and order")
    q.add_argument("--quantization_overrides", default=None, metavar="FILE",
                   help="an AIMET/QNN encodings JSON applied over the calibrated encodings")
    q.add_argument("--algorithms", nargs="*", default=[], metavar="NAME",
                   help="cle: cross-layer equalization and high-bias absorption before calibration; "
                   "bc: bias correction after it (--bc_method; with --target, default exact), on the "
                   "calibration inputs; needs --output_network")
    q.add_argument("--bc_method", default="empirical", choices=("empirical", "analytical", "compensation"),
                   help="the bias correction of --algorithms bc: empirical (layer by layer through the "
                   "simulator, default), analytical (from BN statistics, no data) or compensation (Samsung)")
    q.add_argument("--output_network", default=None, metavar="FILE",
                   help="write the float model the algorithms changed (ONNX, BN folded): the encodings "
                   "describe its weights and biases, not the input model's")
    q.add_argument("--pack_4_bit_weights", action="store_true",
                   help="recorded in the output; the encodings file holds no weights to pack")
    q.add_argument("--input_layout", default="NCHW", choices=("NCHW", "NHWC"),
                   help="layout of the 4-D raw input files (default NCHW)")
    _add_input_dim_argument(q)
    q.add_argument("--encodings_format", default="aimet-1.0.0",
                   choices=("aimet-0.6.1", "aimet-1.0.0", "aimet-2.0.0"))
    q.add_argument("--skip_nonfinite", action="store_true", help="leave out inputs that produce NaN/Inf")
    q.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_input_dim_argument(p):
    """The one spelling of an input shape on every command: QNN's ``--input_dim NAME D0,D1,...``."""
    p.add_argument("--input_dim", nargs=2, action="append", default=[], metavar=("NAME", "DIMS"),
                   help="static shape of an input (binds dynamic dims), e.g. --input_dim x 1,3,224,224")


def _parse_dims(pairs):
    shapes = {}
    for name, dims in pairs:
        try:
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            raise FxsimError(f"--input_dim {name} {dims}: expected comma-separated integers") from None
    return shapes


def _quantize_command(args):
    import fxsim as fx

    unknown = [a for a in args.algorithms if a not in ALGORITHMS]
    if unknown:
        raise FxsimError(f"--algorithms {' '.join(unknown)}: unknown (known: {', '.join(ALGORITHMS)})")
    if args.algorithms and not args.output_network:
        raise FxsimError(f"--algorithms {' '.join(args.algorithms)} changes weights and biases: give "
                         f"--output_network for the changed model the encodings belong to")
    graph = fx.load(args.input_network, input_shapes=_parse_dims(args.input_dim) or None)
    inputs = fx.read_input_list(args.input_list, graph, layout=args.input_layout)
    if "cle" in args.algorithms:
        graph = fx.equalize(graph, high_bias=True)
        print(graph.report.summary())
    progress = None
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(inputs), desc="calibrating", unit="input", file=sys.stderr)

        def progress(done, total):
            bar.update(done - bar.n)
    try:
        encs = fx.calibrate(graph, inputs, act_quantizer=args.act_quantizer, param_quantizer=args.param_quantizer,
                            target=args.target, per_channel=not args.per_tensor, act_bw=args.act_bw,
                            weight_bw=args.weight_bw, bias_bw=args.bias_bw, compat=args.compat, progress=progress,
                            percentile=args.percentile_calibration_value, skip_nonfinite=args.skip_nonfinite,
                            reduce_range=args.reduce_range)
    finally:
        if bar is not None:
            bar.close()
    if args.quantization_overrides:
        encs, report = fx.apply_overrides(encs, args.quantization_overrides, graph)
        for r in report["recomputed"]:
            channel = "" if r["channel"] is None else f" channel {r['channel']}"
            print(f"override {r['tensor']}{channel}: {r['field']} {r['file']!r} in the file, {r['recomputed']!r} "
                  f"recomputed from bw/min/max")
        for name in report["unknown"]:
            print(f"override {name}: not a tensor of the model (ignored)")
        for name in report["float"]:
            print(f"override {name}: float (mixed precision)")
    if "bc" in args.algorithms:
        graph = fx.correct_bias(graph, encs, inputs, target=args.target or "exact", method=args.bc_method)
        print(graph.report.summary())
    if args.output_network:
        fx.save_model(graph, args.output_network)
        print(f"wrote the model the encodings describe to {args.output_network}")
    fx.save_encodings(encs, args.output_encodings, format=args.encodings_format)
    skipped = encs.report.get("skipped", [])
    print(f"wrote {len(encs)} encodings ({len(encs.params)} params) from {encs.report.get('batches', len(inputs))} "
          f"inputs to {args.output_encodings}" + (f"; {len(skipped)} inputs skipped (NaN/Inf)" if skipped else ""))
    return 0


def _target_json(target):
    def plain(value):
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if hasattr(value, "name") and not isinstance(value, str):  # enums
            return value.name.lower()
        return value

    fields = {}
    for key, value in target.fields().items():
        label = target.labels.get(key)
        fields[key] = {"value": plain(value), "status": getattr(label, "status", None),
                       "source": getattr(label, "source", None)}
    return {"name": target.name, "description": target.description, "fields": fields}


def _targets_command(args):
    import json

    from .targets import list_targets, load_target

    if args.json:
        names = [args.target] if args.target is not None else list_targets()
        data = [_target_json(load_target(n)) for n in names]
        print(json.dumps(data[0] if args.target is not None else data, indent=1))
        return 0
    if args.target is not None:
        print(load_target(args.target).describe())
        return 0
    for name in list_targets():
        print(load_target(name).summary())
    return 0


def main(argv=None):
    """Entry point of the ``fxsim`` console script; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            from .demo import run_demo

            if args.samples is not None and args.samples < 1:
                raise FxsimError(f"--samples must be >= 1, got {args.samples}")
            bar, progress = _progress_bar(args, 1, "demo")
            try:
                text, _ = run_demo(samples=args.samples, report=args.report, progress=progress)
            finally:
                if bar is not None:
                    bar.close()
            print(text)
            return 0
        if args.command == "targets":
            return _targets_command(args)
        if args.command == "inspect":
            return _inspect_command(args)
        if args.command == "quantize":
            return _quantize_command(args)
        if args.command == "run":
            return _run_command(args)
        if args.command == "compare":
            return _compare_command(args)
    except FxsimError as err:
        print(f"fxsim {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`fxsim targets | head`): stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
