// RUN: kiln-opt %s --kiln-decompose-pads | FileCheck %s
// A pad becomes empty + fill + insert_slice, with the fill moved up to just
// before the op that produces the padded value, which gets a tensor.empty of
// its own: eliminate-empty-tensors can then make it write into the interior.

// CHECK-LABEL: func @relu_then_pad
// CHECK:      %[[E:.*]] = tensor.empty() : tensor<1x2x6x6xf32>
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<1x2x6x6xf32>)
// CHECK-NEXT: %[[OWN:.*]] = tensor.empty() : tensor<1x2x4x4xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {{.*}} outs(%[[OWN]] : tensor<1x2x4x4xf32>)
// CHECK:      tensor.insert_slice %[[R]] into %[[F]][0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1]
// CHECK-NOT:  tensor.pad
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @relu_then_pad(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %shared = tensor.empty() : tensor<1x2x4x4xf32>
  %other = linalg.fill ins(%zero : f32) outs(%shared : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x4x4xf32>) outs(%shared : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  return %p, %other : tensor<1x2x6x6xf32>, tensor<1x2x4x4xf32>
}
