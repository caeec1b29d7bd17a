//===- ControlFlow.td - ONNX control flow: If, Loop, Scan -----------------===//
//
// This file defines the ops whose ONNX attributes are graphs. Each graph is
// a single-block region: its inputs are the block's arguments, its outputs
// the operands of the `onnx.Yield` that ends it, and it may use any value
// defined above it (ONNX's outer-scope references).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_CONTROLFLOW_TD
#define KILN_DIALECTS_ONNX_CONTROLFLOW_TD

include "dialects/onnx/ONNXDialect.td"

def ONNX_YieldOp : Op<ONNX_Dialect, "Yield",
                      [Pure, Terminator,
                       ParentOneOf<["IfOp", "LoopOp", "ScanOp"]>]> {
  let summary = "the outputs of a graph attribute (then/else branch, body)";
  let arguments = (ins Variadic<ONNX_Tensor>:$outputs);
  let assemblyFormat = "attr-dict ($outputs^ `:` type($outputs))?";
}

def ONNX_IfOp : ONNX_Op<"If"> {
  let summary = "run one of two graphs, chosen by a boolean scalar";
  let description = [{
    Both regions take no arguments and yield one value per result, of the
    result's type.

    Example:
    ```mlir
    %r = "onnx.If"(%cond) ({
      onnx.Yield %a : tensor<5xf32>
    }, {
      onnx.Yield %b : tensor<5xf32>
    }) : (tensor<i1>) -> tensor<5xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$cond);
  let results = (outs Variadic<ONNX_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$then_branch,
                        SizedRegion<1>:$else_branch);
  let hasVerifier = 1;
}

def ONNX_LoopOp : ONNX_Op<"Loop"> {
  let summary = "a loop with a trip count, a condition, or both";
  let description = [{
    The body's arguments are the iteration number (tensor<i64>), the
    condition (tensor<i1>) and the loop-carried values; it yields the next
    condition, the next carried values and one element of each scan output.
    The results are the final carried values, then the scan outputs (the
    elements of every iteration stacked along a new leading axis).
  }];
  let arguments = (ins ONNX_OptTensor:$M, ONNX_OptTensor:$cond,
                   Variadic<ONNX_Tensor>:$v_initial);
  let results = (outs Variadic<ONNX_Tensor>:$v_final_and_scan_outputs);
  let regions = (region SizedRegion<1>:$body);
  let hasVerifier = 1;
}

def ONNX_ScanOp : ONNX_Op<"Scan"> {
  let summary = "iterate a graph over slices of the scan inputs";
  let description = [{
    The operands are the N initial states, then the `num_scan_inputs` scan
    inputs. The body takes the states and one slice of each scan input, and
    yields the next states and one slice of each scan output. The results
    are the final states, then the scan outputs.
  }];
  let arguments = (ins Variadic<ONNX_Tensor>:$initial_state_and_scan_inputs,
                   I64Attr:$num_scan_inputs,
                   OptionalAttr<I64ArrayAttr>:$scan_input_axes,
                   OptionalAttr<I64ArrayAttr>:$scan_input_directions,
                   OptionalAttr<I64ArrayAttr>:$scan_output_axes,
                   OptionalAttr<I64ArrayAttr>:$scan_output_directions);
  let results = (outs Variadic<ONNX_Tensor>:$final_state_and_scan_outputs);
  let regions = (region SizedRegion<1>:$body);
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_ONNX_CONTROLFLOW_TD
