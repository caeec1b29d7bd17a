// RUN: kiln-opt %s --kiln-fuse-rows="piece-work=256 parallel-min-work=1024" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-fuse-rows="piece-work=256 parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=SERIAL
// LayerNorm's ops go piece by piece over the rows: each op on subviews of
// a piece of rows, the weight and bias read whole.

// Pieces of 8 rows (8 x 32 iterations each), on kiln_parallel_rows; the
// fill after the run (a matmul's initializer, say) is not part of it.
// CHECK-LABEL: func.func private @layernorm_rows0(
// CHECK-SAME: %[[MEAN:[^:]*]]: memref<1x64x1xf32>, %[[X:[^:]*]]: memref<1x64x32xf32>, %[[XC:[^:]*]]: memref<1x64x32xf32>, %[[VAR:[^:]*]]: memref<1x64x1xf32>, %[[W:[^:]*]]: memref<32xf32>, %[[B:[^:]*]]: memref<32xf32>, %[[Y:[^:]*]]: memref<1x64x32xf32>
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[AT:.*]] = arith.muli %[[P]], %c8 : index
// CHECK:   %[[M8:.*]] = memref.subview %[[MEAN]][0, %[[AT]], 0] [1, 8, 1] [1, 1, 1]
// CHECK:   %[[X8:.*]] = memref.subview %[[X]][0, %[[AT]], 0] [1, 8, 32] [1, 1, 1]
// CHECK:   %[[XC8:.*]] = memref.subview %[[XC]][0, %[[AT]], 0] [1, 8, 32] [1, 1, 1]
// CHECK:   %[[V8:.*]] = memref.subview %[[VAR]][0, %[[AT]], 0] [1, 8, 1] [1, 1, 1]
// CHECK:   %[[Y8:.*]] = memref.subview %[[Y]][0, %[[AT]], 0] [1, 8, 32] [1, 1, 1]
// CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%[[M8]] :
// CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X8]] : {{.*}}) outs(%[[M8]] :
// CHECK:   linalg.generic {{.*}} ins(%[[X8]], %[[M8]] : {{.*}}) outs(%[[XC8]] :
// CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%[[V8]] :
// CHECK:   linalg.generic {{.*}} ins(%[[XC8]] : {{.*}}) outs(%[[V8]] :
// CHECK:   linalg.generic {{.*}} ins(%[[XC8]], %[[V8]], %[[W]], %[[B]] : {{.*}}) outs(%[[Y8]] :
// CHECK: return
// CHECK-LABEL: func.func @layernorm(
// CHECK-COUNT-3: memref.alloc()
// CHECK: call @layernorm_rows0_dispatch(%{{.*}}, %c0, %c0, %c8)
// CHECK-NOT: linalg.generic
// CHECK: %[[C:.*]] = memref.alloc() : memref<64x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<64x16xf32>)
// CHECK-NEXT: return
// Without threads, the same loop over 8 pieces in the function itself.
// SERIAL-LABEL: func.func @layernorm(
// SERIAL: scf.for %{{.*}} = %c0 to %c8 step %c1 {
// SERIAL-COUNT-5: memref.subview
// SERIAL-COUNT-2: linalg.
// SERIAL: }
// SERIAL-NOT: call
#full = affine_map<(a, b, c) -> (a, b, c)>
#row = affine_map<(a, b, c) -> (a, b, 0)>
#col = affine_map<(a, b, c) -> (c)>
func.func @layernorm(%x: memref<1x64x32xf32>, %w: memref<32xf32>, %bias: memref<32xf32>, %y: memref<1x64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 32.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %mean = memref.alloc() : memref<1x64x1xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x64x1xf32>)
  linalg.generic {indexing_maps = [#full, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<1x64x32xf32>) outs(%mean : memref<1x64x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  %xc = memref.alloc() : memref<1x64x32xf32>
  linalg.generic {indexing_maps = [#full, #row, #full], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %mean : memref<1x64x32xf32>, memref<1x64x1xf32>) outs(%xc : memref<1x64x32xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %0 = arith.divf %m, %n : f32
    %1 = arith.subf %in, %0 : f32
    linalg.yield %1 : f32
  }
  %var = memref.alloc() : memref<1x64x1xf32>
  linalg.fill ins(%zero : f32) outs(%var : memref<1x64x1xf32>)
  linalg.generic {indexing_maps = [#full, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xc : memref<1x64x32xf32>) outs(%var : memref<1x64x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#full, #row, #col, #col, #full], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xc, %var, %w, %bias : memref<1x64x32xf32>, memref<1x64x1xf32>, memref<32xf32>, memref<32xf32>) outs(%y : memref<1x64x32xf32>) {
  ^bb0(%in: f32, %v: f32, %g: f32, %b: f32, %out: f32):
    %0 = arith.divf %v, %n : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.sqrt %1 : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %g : f32
    %5 = arith.addf %4, %b : f32
    linalg.yield %5 : f32
  }
  %c = memref.alloc() : memref<64x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x16xf32>)
  return
}

// A matmul reads B whole along its rows: its initializer and it stay, and
// the elementwise op after it (its epilogue) does not start a run.
// CHECK-LABEL: func.func @matmul_then_mean(
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: call @matmul_then_mean_rows0_dispatch
func.func @matmul_then_mean(%a: memref<64x32xf32>, %b: memref<32x32xf32>, %s: memref<64x1xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x32xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x32xf32>)
  linalg.matmul ins(%a, %b : memref<64x32xf32>, memref<32x32xf32>) outs(%c : memref<64x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<64x32xf32>) outs(%c : memref<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<64x1xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, 0)>], iterator_types = ["parallel", "reduction"]} ins(%c : memref<64x32xf32>) outs(%s : memref<64x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}
