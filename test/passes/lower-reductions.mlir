// RUN: kiln-opt %s --kiln-lower-reductions=vector-width=16 --canonicalize --cse | FileCheck %s
// A reduction of the innermost loop becomes, per row, vector loads feeding
// independent vector accumulators, halved down to one lane and folded into
// the output element once.

// LayerNorm's sum of squares over rows of 256: sixteen vectors per row into
// four accumulators (four groups of four), the body's x*x lane-wise, the
// output read and written once per row.
// CHECK-LABEL: func.func @sum_of_squares(
// CHECK-SAME: %[[X:[^:]*]]: memref<1x128x256xf32>, %[[S:[^:]*]]: memref<1x128x1xf32>
// CHECK-DAG: %[[NEG0:.*]] = arith.constant dense<-0.000000e+00> : vector<16xf32>
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c128 step %c1 {
// CHECK:   %[[ACCS:.*]]:4 = scf.for %[[G:.*]] = %c0 to %c4 step %c1 iter_args(%[[A0:.*]] = %[[NEG0]], %[[A1:.*]] = %[[NEG0]], %[[A2:.*]] = %[[NEG0]], %[[A3:.*]] = %[[NEG0]])
// CHECK:     %[[BASE:.*]] = arith.muli %[[G]], %c64 : index
// CHECK:     %[[V0:.*]] = vector.load %[[X]][%c0, %[[ROW]], %[[BASE]]] : memref<1x128x256xf32>, vector<16xf32>
// CHECK:     %[[SQ0:.*]] = arith.mulf %[[V0]], %[[V0]] : vector<16xf32>
// CHECK:     arith.addf %[[SQ0]], %[[A0]] : vector<16xf32>
// CHECK-COUNT-3: vector.load
// CHECK:     scf.yield
// CHECK:   %[[T1:.*]] = arith.addf %[[ACCS]]#1, %[[ACCS]]#0 : vector<16xf32>
// CHECK:   %[[T2:.*]] = arith.addf %[[ACCS]]#2, %[[T1]] : vector<16xf32>
// CHECK:   %[[T3:.*]] = arith.addf %[[ACCS]]#3, %[[T2]] : vector<16xf32>
// CHECK:   vector.extract_strided_slice %[[T3]] {offsets = [8], sizes = [8], strides = [1]}
// CHECK:   arith.addf {{.*}} : vector<8xf32>
// CHECK:   arith.addf {{.*}} : vector<4xf32>
// CHECK:   arith.addf {{.*}} : vector<2xf32>
// CHECK:   %[[ONE:.*]] = arith.addf {{.*}} : vector<1xf32>
// CHECK:   %[[LANE:.*]] = vector.extract %[[ONE]][0] : f32 from vector<1xf32>
// CHECK:   %[[OLD:.*]] = memref.load %[[S]][%c0, %[[ROW]], %c0] : memref<1x128x1xf32>
// CHECK:   %[[NEW:.*]] = arith.addf %[[LANE]], %[[OLD]] : f32
// CHECK:   memref.store %[[NEW]], %[[S]][%c0, %[[ROW]], %c0] : memref<1x128x1xf32>
// CHECK-NOT: linalg.generic
#x3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#r3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
func.func @sum_of_squares(%x: memref<1x128x256xf32>, %s: memref<1x128x1xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#x3, #r3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x128x256xf32>) outs(%s : memref<1x128x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %sum = arith.addf %sq, %out : f32
    linalg.yield %sum : f32
  }
  return
}

// Softmax's max over rows of 37 on a subview (as kiln-parallelize-loops
// leaves them): two full vectors, then the last 5 lanes masked, loaded
// with zeros and kept out of the accumulator by a select. (The first
// vectors' max with the neutral -inf folds away.)
// CHECK-LABEL: func.func @row_max(
// CHECK-DAG: %[[MASK:.*]] = arith.constant dense<[true, true, true, true, true, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c4 step %c1 {
// CHECK:   %[[V0:.*]] = vector.load %{{.*}}[%[[ROW]], %c0] : memref<4x37xf32, strided<[64, 1], offset: ?>>, vector<16xf32>
// CHECK:   %[[V1:.*]] = vector.load %{{.*}}[%[[ROW]], %c16]
// CHECK:   %[[V2:.*]] = vector.maskedload %{{.*}}[%[[ROW]], %c32], %[[MASK]]
// CHECK:   %[[M2:.*]] = arith.maximumf %[[V2]], %[[V0]] : vector<16xf32>
// CHECK:   %[[SEL:.*]] = arith.select %[[MASK]], %[[M2]], %[[V0]] : vector<16xi1>, vector<16xf32>
// CHECK:   arith.maximumf %[[V1]], %[[SEL]] : vector<16xf32>
// CHECK:   arith.maximumf {{.*}} : vector<8xf32>
// CHECK:   %[[OLD:.*]] = memref.load %{{.*}}[%[[ROW]]] : memref<4xf32>
// CHECK:   %[[NEW:.*]] = arith.maximumf %{{.*}}, %[[OLD]] : f32
// CHECK:   memref.store %[[NEW]], %{{.*}}[%[[ROW]]] : memref<4xf32>
#row = affine_map<(d0, d1) -> (d0, d1)>
#one = affine_map<(d0, d1) -> (d0)>
func.func @row_max(%base: memref<8x64xf32>, %m: memref<4xf32>, %i: index) {
  %x = memref.subview %base[%i, 0] [4, 37] [1, 1] : memref<8x64xf32> to memref<4x37xf32, strided<[64, 1], offset: ?>>
  linalg.generic {indexing_maps = [#row, #one], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x37xf32, strided<[64, 1], offset: ?>>) outs(%m : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// A per-row operand (the row's max, read once per row and broadcast) and a
// whole reduction to one element (no loops over other dims).
// CHECK-LABEL: func.func @exp_sum(
// CHECK-SAME: %[[X:[^:]*]]: memref<64xf32>, %[[MAX:[^:]*]]: memref<1xf32>, %[[S:[^:]*]]: memref<1xf32>
// CHECK:   %[[M:.*]] = memref.load %[[MAX]][%c0] : memref<1xf32>
// CHECK-DAG: %[[V:.*]] = vector.load %[[X]][%c0] : memref<64xf32>, vector<16xf32>
// CHECK-DAG: %[[MV:.*]] = vector.broadcast %[[M]] : f32 to vector<16xf32>
// CHECK:   %[[D:.*]] = arith.subf %[[V]], %[[MV]] : vector<16xf32>
// CHECK:   math.exp %[[D]] : vector<16xf32>
// CHECK-NOT: scf.for
// CHECK:   memref.store %{{.*}}, %[[S]][%c0] : memref<1xf32>
#all = affine_map<(d0) -> (d0)>
#first = affine_map<(d0) -> (0)>
func.func @exp_sum(%x: memref<64xf32>, %max: memref<1xf32>, %s: memref<1xf32>) {
  linalg.generic {indexing_maps = [#all, #first, #first], iterator_types = ["reduction"]}
      ins(%x, %max : memref<64xf32>, memref<1xf32>) outs(%s : memref<1xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %e = math.exp %d : f32
    %sum = arith.addf %e, %out : f32
    linalg.yield %sum : f32
  }
  return
}

// Left alone: a reduction over an outer loop (the rows are not
// contiguous), a row shorter than a vector, and an integer sum.
// CHECK-LABEL: func.func @left_alone(
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.load
#t = affine_map<(d0, d1) -> (d1, d0)>
func.func @left_alone(%x: memref<64x32xf32>, %c: memref<32xf32>, %y: memref<4x8xf32>, %d: memref<4xf32>, %z: memref<4x64xi32>, %e: memref<4xi32>) {
  linalg.generic {indexing_maps = [#t, #one], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x32xf32>) outs(%c : memref<32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#row, #one], iterator_types = ["parallel", "reduction"]}
      ins(%y : memref<4x8xf32>) outs(%d : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#row, #one], iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<4x64xi32>) outs(%e : memref<4xi32>) {
  ^bb0(%in: i32, %out: i32):
    %r = arith.addi %in, %out : i32
    linalg.yield %r : i32
  }
  return
}

// GlobalAveragePool's sum over H and W (two reduction loops, contiguous in
// memory): one row of 25 through a collapsed view, a full vector and 9
// masked lanes.
// CHECK-LABEL: func.func @pool_sum(
// CHECK-SAME: %[[X:[^:]*]]: memref<1x8x5x5xf32>
// CHECK: %[[ROWS:.*]] = memref.collapse_shape %[[X]] {{\[}}[0], [1], [2, 3]] : memref<1x8x5x5xf32> into memref<1x8x25xf32>
// CHECK: scf.for %[[C:.*]] = %c0 to %c8 step %c1 {
// CHECK:   vector.load %[[ROWS]][%c0, %[[C]], %c0] : memref<1x8x25xf32>, vector<16xf32>
// CHECK:   vector.maskedload %[[ROWS]][%c0, %[[C]], %c16]
// CHECK:   memref.store %{{.*}}, %{{.*}}[%c0, %[[C]], %c0, %c0] : memref<1x8x1x1xf32>
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#p4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
func.func @pool_sum(%x: memref<1x8x5x5xf32>, %s: memref<1x8x1x1xf32>) {
  linalg.generic {indexing_maps = [#x4, #p4], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x : memref<1x8x5x5xf32>) outs(%s : memref<1x8x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}
