// RUN: kiln-opt %s --kiln-concat-in-place | FileCheck %s
// RUN: kiln-opt %s --kiln-concat-in-place --eliminate-empty-tensors | FileCheck %s --check-prefix=ELIM
// RUN: kiln-opt %s --eliminate-empty-tensors | FileCheck %s --check-prefix=BEFORE
// A Concat of two Relus (a Fire module's expand layers) that share their
// init (CSE merged it): the result's tensor.empty moves before the first
// Relu, each insert_slice right after its Relu, and the first Relu gets an
// init of its own (the second keeps the shared one, then its only user).

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @concat
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<8x5xf32>
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[R0:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<4x5xf32>) outs(%[[E0]] : tensor<4x5xf32>)
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[R0]] into %[[OUT]][0, 0] [4, 5] [1, 1]
// CHECK: %[[R1:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<4x5xf32>) outs(%[[E1]] : tensor<4x5xf32>)
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[R1]] into %[[I0]][4, 0] [4, 5] [1, 1]
// CHECK: return %[[I1]]

// Empty-tensor elimination then has each Relu write into its slice.
// ELIM-LABEL: func.func @concat
// ELIM: %[[OUT:.*]] = tensor.empty() : tensor<8x5xf32>
// ELIM: %[[S0:.*]] = tensor.extract_slice %[[OUT]][0, 0] [4, 5] [1, 1]
// ELIM: %[[R0:.*]] = linalg.generic {{.*}} outs(%[[S0]] : tensor<4x5xf32>)
// ELIM: %[[I0:.*]] = tensor.insert_slice %[[R0]] into %[[OUT]][0, 0]
// ELIM: %[[S1:.*]] = tensor.extract_slice %[[I0]][4, 0] [4, 5] [1, 1]
// ELIM: %[[R1:.*]] = linalg.generic {{.*}} outs(%[[S1]] : tensor<4x5xf32>)
// ELIM: tensor.insert_slice %[[R1]] into %[[I0]][4, 0]

// Without the pass, neither Relu's init is replaced.
// BEFORE-LABEL: func.func @concat
// BEFORE-NOT: tensor.extract_slice
// BEFORE: return
func.func @concat(%a: tensor<4x5xf32>, %b: tensor<4x5xf32>) -> tensor<8x5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x5xf32>
  %ra = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x5xf32>
  %rb = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x5xf32>
  %out = tensor.empty() : tensor<8x5xf32>
  %c0 = tensor.insert_slice %ra into %out[0, 0] [4, 5] [1, 1] : tensor<4x5xf32> into tensor<8x5xf32>
  %c1 = tensor.insert_slice %rb into %c0[4, 0] [4, 5] [1, 1] : tensor<4x5xf32> into tensor<8x5xf32>
  return %c1 : tensor<8x5xf32>
}
