// RUN: kiln-opt %s --kiln-unshare-fills | FileCheck %s
// Two matmuls start from the same zeros (CSE merged their fills): the second
// gets a fill and a tensor.empty of its own, so that bufferization writes
// both in place rather than copying the zeros for one of them.

// CHECK-LABEL: func @two_matmuls
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<4x4xf32>
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E0]] : tensor<4x4xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[F0]] : tensor<4x4xf32>)
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4x4xf32>
// CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E1]] : tensor<4x4xf32>)
// CHECK: linalg.matmul ins(%arg1, %arg0 : {{.*}}) outs(%[[F1]] : tensor<4x4xf32>)
func.func @two_matmuls(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %x = linalg.matmul ins(%a, %b : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = linalg.matmul ins(%b, %a : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %x, %y : tensor<4x4xf32>, tensor<4x4xf32>
}

// Two per-image matmuls start from one broadcast of a bias (two layers whose
// biases hold equal values, which CSE merged, with the slice each matmul
// writes into and the insert_slice that puts it back): the second gets a
// broadcast, a tensor.empty and a slice of its own, and puts its result back
// into its own broadcast, so that both are written in place and
// kiln-lower-matmuls still sees each bias.

#bias = affine_map<(d0, d1, d2) -> (d1, 0)>
#all = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// CHECK-LABEL: func @two_layers_one_bias
// CHECK: %[[BIAS:.*]] = arith.constant dense
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<1x4x6xf32>
// CHECK: %[[B0:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<4x1xf32>) outs(%[[E0]] : tensor<1x4x6xf32>)
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[B0]]
// CHECK: %[[M0:.*]] = linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[S0]] : tensor<4x6xf32>)
// CHECK: tensor.insert_slice %[[M0]] into %[[B0]]
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<1x4x6xf32>
// CHECK: %[[B1:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<4x1xf32>) outs(%[[E1]] : tensor<1x4x6xf32>)
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[B1]]
// CHECK: %[[M1:.*]] = linalg.matmul ins(%arg2, %arg3 : {{.*}}) outs(%[[S1]] : tensor<4x6xf32>)
// CHECK: tensor.insert_slice %[[M1]] into %[[B1]]
func.func @two_layers_one_bias(%w0: tensor<4x3xf32>, %x0: tensor<3x6xf32>, %w1: tensor<4x3xf32>, %x1: tensor<3x6xf32>) -> (tensor<1x4x6xf32>, tensor<1x4x6xf32>) {
  %bias = arith.constant dense<[[1.0], [2.0], [3.0], [4.0]]> : tensor<4x1xf32>
  %e = tensor.empty() : tensor<1x4x6xf32>
  %b = linalg.generic {indexing_maps = [#bias, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bias : tensor<4x1xf32>) outs(%e : tensor<1x4x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x6xf32>
  %s = tensor.extract_slice %b[0, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<1x4x6xf32> to tensor<4x6xf32>
  %m0 = linalg.matmul ins(%w0, %x0 : tensor<4x3xf32>, tensor<3x6xf32>) outs(%s : tensor<4x6xf32>) -> tensor<4x6xf32>
  %r0 = tensor.insert_slice %m0 into %b[0, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<4x6xf32> into tensor<1x4x6xf32>
  %m1 = linalg.matmul ins(%w1, %x1 : tensor<4x3xf32>, tensor<3x6xf32>) outs(%s : tensor<4x6xf32>) -> tensor<4x6xf32>
  %r1 = tensor.insert_slice %m1 into %b[0, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<4x6xf32> into tensor<1x4x6xf32>
  return %r0, %r1 : tensor<1x4x6xf32>, tensor<1x4x6xf32>
}

// A broadcast that two ops only read stays one: no copy is needed, and a
// second broadcast would be a pass over memory of its own.

// CHECK-LABEL: func @one_bias_read_twice
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x1xf32>)
// CHECK-NOT: ins(%{{.*}} : tensor<4x1xf32>)
// CHECK: return
func.func @one_bias_read_twice(%x0: tensor<1x4x6xf32>, %x1: tensor<1x4x6xf32>) -> (tensor<1x4x6xf32>, tensor<1x4x6xf32>) {
  %bias = arith.constant dense<[[1.0], [2.0], [3.0], [4.0]]> : tensor<4x1xf32>
  %e = tensor.empty() : tensor<1x4x6xf32>
  %b = linalg.generic {indexing_maps = [#bias, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bias : tensor<4x1xf32>) outs(%e : tensor<1x4x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x6xf32>
  %e0 = tensor.empty() : tensor<1x4x6xf32>
  %y0 = linalg.generic {indexing_maps = [#all, #all, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b, %x0 : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%e0 : tensor<1x4x6xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x6xf32>
  %e1 = tensor.empty() : tensor<1x4x6xf32>
  %y1 = linalg.generic {indexing_maps = [#all, #all, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b, %x1 : tensor<1x4x6xf32>, tensor<1x4x6xf32>) outs(%e1 : tensor<1x4x6xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.mulf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x6xf32>
  return %y0, %y1 : tensor<1x4x6xf32>, tensor<1x4x6xf32>
}

// The op that computes the function's result writes into a tensor.empty of
// its own: empty-tensor elimination makes that empty the output buffer,
// and with a shared one the layer before (CSE merged their empties) would
// be put in the output buffer too, which the last layer then reads while
// writing it (so no kernel fuses its epilogue).

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func @result_own_empty
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<4x4xf32>
// CHECK: %[[A:.*]] = linalg.generic {{.*}} outs(%[[E0]] : tensor<4x4xf32>)
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4x4xf32>
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x4xf32>) outs(%[[E1]] : tensor<4x4xf32>)
// CHECK: return %[[B]]
func.func @result_own_empty(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.exp %in : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  return %b : tensor<4x4xf32>
}
