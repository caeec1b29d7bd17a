// RUN: kiln-opt %s --kiln-lower-windows="parallel=false" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-windows="parallel-min-work=0" --canonicalize --cse | FileCheck %s --check-prefix=PAR
// RUN: kiln-opt %s --kiln-lower-windows="parallel=false vector-width=8 tap-loads" --canonicalize --cse | FileCheck %s --check-prefix=TAPS
// RUN: kiln-opt %s --kiln-lower-windows="parallel=false blend-stores" --canonicalize --cse | FileCheck %s --check-prefix=BLEND
// RUN: kiln-opt %s --kiln-lower-windows="parallel=false rows=2" --canonicalize --cse | FileCheck %s --check-prefix=ROWS
// A 3x3 stride-2 depthwise conv over 4 channels, 20 outputs a row: per
// channel the 9 weights are broadcast once; per row one full vector of 16
// and a masked one of 4 accumulate all 9 taps. Each input row is read once
// per vector, the 33 elements its taps cover (16 + 16 + 1 masked): taps 0
// and 1 are its even and odd elements, tap 2 the even ones a lane down,
// the last lane from the third vector. In rows 0 to 18 that third vector is
// read whole (its lanes past the row are the plane's next row, never used);
// the last row, whose next may be another plane's, reads it masked.

// CHECK-LABEL: func @depthwise
// CHECK-DAG: %[[M1:.*]] = arith.constant dense<[true, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK-DAG: %[[M4:.*]] = arith.constant dense<[true, true, true, true, false
// CHECK: scf.for %[[P:.*]] = %c0 to %c4 step %c1
// CHECK-COUNT-9: vector.broadcast
// CHECK:   scf.for %[[OH:.*]] = %c0 to %c19 step %c1
// CHECK:     %[[ACC:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %[[OH]], %c0] : memref<1x4x1x20x20xf32>, vector<16xf32>
// CHECK:     %[[S0:.*]] = vector.load %arg0[{{.*}}, %c0]
// CHECK:     %[[S1:.*]] = vector.load %arg0[{{.*}}, %c16]
// CHECK:     %[[S2:.*]] = vector.load %arg0[{{.*}}, %c32]
// CHECK:     %[[EVEN:.*]] = vector.shuffle %[[S0]], %[[S1]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK:     %[[ODD:.*]] = vector.shuffle %[[S0]], %[[S1]] [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK:     %[[TAP2:.*]] = vector.shuffle %[[EVEN]], %[[S2]] [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
// CHECK:     %[[A0:.*]] = vector.fma %{{.*}}, %[[EVEN]], %[[ACC]]
// CHECK:     %[[A1:.*]] = vector.fma %{{.*}}, %[[ODD]], %[[A0]]
// CHECK:     vector.fma %{{.*}}, %[[TAP2]], %[[A1]]
// CHECK-COUNT-6: vector.fma
// CHECK:     vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0, %[[OH]], %c0]
// CHECK-COUNT-9: vector.fma
// CHECK:     vector.maskedstore %arg2[%{{.*}}, %{{.*}}, %c0, %[[OH]], %c16], %[[M4]]
// CHECK:   }
// CHECK:   vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %c19, %c0]
// CHECK:   vector.maskedload %arg0[%{{.*}}, %{{.*}}, %c38, %c32], %[[M1]]
// CHECK:   vector.maskedstore %arg2[%{{.*}}, %{{.*}}, %c0, %c19, %c16], %[[M4]]
// CHECK-NOT: linalg.generic

// With blend-stores (AMD Zen's masked stores are slow), a row end before
// the plane's last is a load of the whole vector, a select and a store;
// the last row's stays masked.
// BLEND-LABEL: func @depthwise
// BLEND-DAG: %[[M4:.*]] = arith.constant dense<[true, true, true, true, false
// BLEND:   scf.for %[[OH:.*]] = %c0 to %c19 step %c1
// BLEND:     %[[OLD:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %[[OH]], %c16] : memref<1x4x1x20x20xf32>, vector<16xf32>
// BLEND:     %[[BOTH:.*]] = arith.select %[[M4]], %{{.*}}, %[[OLD]]
// BLEND:     vector.store %[[BOTH]], %arg2[%{{.*}}, %{{.*}}, %c0, %[[OH]], %c16]
// BLEND:   }
// BLEND:   vector.maskedstore %arg2[%{{.*}}, %{{.*}}, %c0, %c19, %c16], %[[M4]]

// With tap-loads (AVX2) and 8 lanes, stride 2 builds each row's taps
// within 128-bit halves: taps 0 and 1 the even and odd elements of the
// vectors at 0 and 8 (one vshufps each), tap 2 the even ones of those at 2
// and 10; their lanes, and the accumulator's, in the order 0 1 4 5 2 3 6 7
// until the window is done, then put back (one vpermpd).
// TAPS-LABEL: func @depthwise(
// TAPS:     %[[OUT:.*]] = vector.load %arg2{{.*}} : memref<1x4x1x20x20xf32>, vector<8xf32>
// TAPS:     %[[ACC:.*]] = vector.shuffle %[[OUT]], %[[OUT]] [0, 1, 4, 5, 2, 3, 6, 7]
// TAPS:     %[[A:.*]] = vector.load %arg0
// TAPS:     %[[B:.*]] = vector.load %arg0
// TAPS:     %[[T0:.*]] = vector.shuffle %[[A]], %[[B]] [0, 2, 8, 10, 4, 6, 12, 14]
// TAPS:     %[[T1:.*]] = vector.shuffle %[[A]], %[[B]] [1, 3, 9, 11, 5, 7, 13, 15]
// TAPS:     %[[C:.*]] = vector.load %arg0
// TAPS:     %[[D:.*]] = vector.load %arg0
// TAPS:     %[[T2:.*]] = vector.shuffle %[[C]], %[[D]] [0, 2, 8, 10, 4, 6, 12, 14]
// TAPS:     %[[F0:.*]] = vector.fma %{{.*}}, %[[T0]], %[[ACC]]
// TAPS:     %[[F1:.*]] = vector.fma %{{.*}}, %[[T1]], %[[F0]]
// TAPS:     vector.fma %{{.*}}, %[[T2]], %[[F1]]
// TAPS-COUNT-6: vector.fma
// TAPS:     %[[Y:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5, 2, 3, 6, 7]
// TAPS:     vector.store %[[Y]], %arg2

// In parallel the planes are a function that kiln_parallel_rows runs.
// PAR: func.func private @depthwise_depthwise0_dispatch({{.*}}) attributes {kiln.runtime = "kiln_parallel_rows"}
// PAR: func.func private @depthwise_depthwise0({{.*}}, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {passthrough = ["noinline"]}
// PAR:   scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c1
// PAR: func.func @depthwise
// PAR:   call @depthwise_depthwise0_dispatch(%{{.*}}, %arg0, %arg1, %arg2, %arg0, %arg0, %arg0, %arg0, %arg0, %c0, %c0, %c4)
#x = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g + c, oh * 2 + kh, ow * 2 + kw)>
#w = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (g, f, c, kh, kw)>
#o = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g, f, oh, ow)>
#x1 = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g + c, oh + kh, ow + kw)>
func.func @depthwise(%x: memref<1x4x41x41xf32>, %w: memref<4x1x1x3x3xf32>, %y: memref<1x4x1x20x20xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x4x41x41xf32>, memref<4x1x1x3x3xf32>) outs(%y : memref<1x4x1x20x20xf32>) attrs = {kiln.depthwise = array<i64: 2, 2, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// An 8-bit depthwise conv (kiln.depthwise's fifth value: the input's zero
// point, 7): its bytes become f32 as they are read, and each byte weight
// once per plane; the FMAs are the f32 kernel's. The zero point comes out
// of the sum once per plane: each output starts from -7 times the sum of
// the plane's weights.
// CHECK-LABEL: func @byte_depthwise
// CHECK-DAG: %[[ZP:.*]] = arith.constant -7.000000e+00 : f32
// CHECK: scf.for
// CHECK-COUNT-9: arith.sitofp {{.*}} : i8 to f32
// CHECK: %[[SHIFT:.*]] = arith.mulf %{{.*}}, %[[ZP]] : f32
// CHECK: %[[SHIFTS:.*]] = vector.broadcast %[[SHIFT]] : f32 to vector<16xf32>
// CHECK: scf.for
// CHECK: %[[OUT:.*]] = vector.load %arg2
// CHECK: %[[ACC:.*]] = arith.addf %[[OUT]], %[[SHIFTS]] : vector<16xf32>
// Stride 1: an input row's two vectors read once (the second whole, but
// in the last row), taps 1 and 2 those lanes shifted by one and two.
// CHECK: %[[X:.*]] = vector.load %arg0{{.*}} : memref<1x4x22x22xi8>, vector<16xi8>
// CHECK: %[[X1:.*]] = vector.load %arg0{{.*}} : memref<1x4x22x22xi8>, vector<16xi8>
// CHECK: vector.shuffle %[[X]], %[[X1]] [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
// CHECK: vector.shuffle %[[X]], %[[X1]] [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
// CHECK: %[[XF:.*]] = arith.uitofp %[[X]] : vector<16xi8> to vector<16xf32>
// CHECK: vector.fma %{{.*}}, %[[XF]], %[[ACC]]
// CHECK-NOT: arith.subi
// CHECK-NOT: linalg.generic
func.func @byte_depthwise(%x: memref<1x4x22x22xi8>, %w: memref<4x1x1x3x3xi8>, %y: memref<1x4x1x20x20xf32>) {
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x4x22x22xi8>, memref<4x1x1x3x3xi8>) outs(%y : memref<1x4x1x20x20xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1, 7>} {
  ^bb0(%a: i8, %b: i8, %acc: f32):
    %a32 = arith.extui %a : i8 to i32
    %c7 = arith.constant 7 : i32
    %d = arith.subi %a32, %c7 : i32
    %af = arith.sitofp %d : i32 to f32
    %bf = arith.sitofp %b : i8 to f32
    %p = arith.mulf %af, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// The Clip after a depthwise conv, written in place (its output is the
// conv's), is applied in the kernel's registers before the one store; what
// reads the result later (here a copy) reads the Clip's.
// CHECK-LABEL: func @depthwise_clip_in_place
// CHECK: vector.fma
// CHECK: %[[LO:.*]] = arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: %[[HI:.*]] = arith.minimumf %[[LO]], %{{.*}} : vector<16xf32>
// CHECK: vector.store %[[HI]], %arg2
// CHECK-NOT: linalg.generic
// CHECK: linalg.copy ins(%arg2 : memref<1x4x1x20x20xf32>) outs(%arg3
// CHECK: return
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @depthwise_clip_in_place(%x: memref<1x4x41x41xf32>, %w: memref<4x1x1x3x3xf32>, %y: memref<1x4x1x20x20xf32>, %z: memref<1x4x1x20x20xf32>) {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x4x41x41xf32>, memref<4x1x1x3x3xf32>) outs(%y : memref<1x4x1x20x20xf32>) attrs = {kiln.depthwise = array<i64: 2, 2, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<1x4x1x20x20xf32>) outs(%y : memref<1x4x1x20x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %lo = arith.maximumf %in, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  }
  linalg.copy ins(%y : memref<1x4x1x20x20xf32>) outs(%z : memref<1x4x1x20x20xf32>)
  return
}

// A 2x2 stride-2 MaxPool over 8x8 planes: its -inf fill starts the
// accumulators (and folds away), each output vector (4 lanes) is the max of
// the 4 window values (the even and odd lanes of each row's load) as a tree
// of plain maxes, NaN where any of them is NaN (the initial value and the 4
// tested a pair at a time: 3 unordered compares), and the copy after it into
// the interior of the next conv's padded input stores straight there.
// CHECK-LABEL: func @max_pool_into_padding
// CHECK: %[[PAD:.*]] = memref.alloc() : memref<1x3x6x6xf32>
// CHECK: %[[SUB:.*]] = memref.subview %[[PAD]][0, 0, 1, 1] [1, 3, 4, 4] [1, 1, 1, 1]
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK:   scf.for %[[OH:.*]] = %c0 to %c4
// CHECK:     vector.maskedload %arg0
// CHECK:     vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-COUNT-3: arith.cmpf uno
// CHECK-NOT: arith.cmpf uno
// CHECK:     %[[NAN:.*]] = arith.ori
// CHECK-COUNT-2: arith.maximumf {{.*}} fastmath<nnan,nsz>
// CHECK:     %[[MAX:.*]] = arith.maximumf {{.*}} fastmath<nnan,nsz>
// CHECK:     %[[Y:.*]] = arith.select %[[NAN]], %{{.*}}, %[[MAX]]
// CHECK:     vector.maskedstore %[[SUB]][%{{.*}}, %{{.*}}, %[[OH]], %c0], %{{.*}}, %[[Y]]
// CHECK-NOT: linalg.pooling_nchw_max
// CHECK-NOT: linalg.copy
// CHECK: return %[[PAD]]
func.func @max_pool_into_padding(%x: memref<1x3x8x8xf32>) -> memref<1x3x6x6xf32> {
  %lowest = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc() : memref<1x3x4x4xf32>
  %window = memref.alloc() : memref<2x2xf32>
  linalg.fill ins(%lowest : f32) outs(%y : memref<1x3x4x4xf32>)
  linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %window : memref<1x3x8x8xf32>, memref<2x2xf32>) outs(%y : memref<1x3x4x4xf32>)
  %pad = memref.alloc() : memref<1x3x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x3x6x6xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 3, 4, 4] [1, 1, 1, 1] : memref<1x3x6x6xf32> to memref<1x3x4x4xf32, strided<[108, 36, 6, 1], offset: 7>>
  linalg.copy ins(%y : memref<1x3x4x4xf32>) outs(%sub : memref<1x3x4x4xf32, strided<[108, 36, 6, 1], offset: 7>>)
  return %pad : memref<1x3x6x6xf32>
}

// An 8-bit MaxPool (a quantized ResNet's, on the bytes): the generic that
// the onnx lowering marks kiln.max_pool, a 3x3 stride-2 window, compares
// vectors of 16 bytes unsigned (its body's arith.maxui).
// CHECK-LABEL: func @byte_max_pool
// CHECK: scf.for %{{.*}} = %c0 to %c2
// CHECK:   scf.for %{{.*}} = %c0 to %c5
// CHECK:     vector.maskedload %arg0{{.*}} : memref<1x2x11x11xi8>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK-COUNT-8: arith.maxui {{.*}} : vector<16xi8>
// CHECK:     vector.maskedstore %arg1{{.*}} : memref<1x2x5x5xi8>, vector<16xi1>, vector<16xi8>
// CHECK-NOT: linalg.generic
#px = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>
#pk = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#py = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
func.func @byte_max_pool(%x: memref<1x2x11x11xi8>, %y: memref<1x2x5x5xi8>) {
  %window = memref.alloc() : memref<3x3xi8>
  linalg.generic {indexing_maps = [#px, #pk, #py], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %window : memref<1x2x11x11xi8>, memref<3x3xi8>) outs(%y : memref<1x2x5x5xi8>) attrs = {kiln.max_pool = array<i64: 2, 2, 1, 1>} {
  ^bb0(%in: i8, %k: i8, %acc: i8):
    %m = arith.maxui %in, %acc : i8
    linalg.yield %m : i8
  }
  return
}

// An AveragePool: the sum of the window, then the division (in place) in
// the same registers.
// CHECK-LABEL: func @average_pool
// CHECK: scf.for
// CHECK:   scf.for %[[OH:.*]] = %c0 to %c3
// CHECK:     vector.maskedload %arg0
// CHECK-COUNT-8: arith.addf
// CHECK:     %[[Q:.*]] = arith.divf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:     vector.maskedstore %arg1[%{{.*}}, %{{.*}}, %[[OH]], %c0], %{{.*}}, %[[Q]]
// CHECK-NOT: linalg.
// CHECK: return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @average_pool(%x: memref<1x2x5x5xf32>, %y: memref<1x2x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %nine = arith.constant 9.0 : f32
  %window = memref.alloc() : memref<3x3xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x2x3x3xf32>)
  linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%x, %window : memref<1x2x5x5xf32>, memref<3x3xf32>) outs(%y : memref<1x2x3x3xf32>)
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<1x2x3x3xf32>) outs(%y : memref<1x2x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.divf %in, %nine : f32
    linalg.yield %q : f32
  }
  return
}

// The bias a depthwise conv's output starts as ([C, 1, 1, 1] read at
// (c, f, 0, 0), f the unit group dim) is each plane's starting value.
// CHECK-LABEL: func @depthwise_bias
// CHECK: scf.for %[[P:.*]] = %c0 to %c4 step %c1
// CHECK:   %[[C:.*]] = arith.remsi %[[P]], %c4 : index
// CHECK:   %[[B:.*]] = memref.load %arg2[%[[C]], %c0, %c0, %c0] : memref<4x1x1x1xf32>
// CHECK:   %[[BV:.*]] = vector.broadcast %[[B]] : f32 to vector<16xf32>
// CHECK:   vector.fma %{{.*}}, %{{.*}}, %[[BV]]
// CHECK-NOT: linalg.generic
// CHECK: return
#dw_bias = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, 0, 0)>
func.func @depthwise_bias(%x: memref<1x4x41x41xf32>, %w: memref<4x1x1x3x3xf32>, %bias: memref<4x1x1x1xf32>, %y: memref<1x4x1x20x20xf32>) {
  linalg.generic {indexing_maps = [#dw_bias, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%bias : memref<4x1x1x1xf32>) outs(%y : memref<1x4x1x20x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x4x41x41xf32>, memref<4x1x1x3x3xf32>) outs(%y : memref<1x4x1x20x20xf32>) attrs = {kiln.depthwise = array<i64: 2, 2, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Planes of 7x7 outputs (at most half a vector): the padded 9x9 input
// plane as one line of 81, output (r, c) its element 9r + c and tap (i, j)
// element 9r + c + 9i + j, so 16 consecutive ones take each tap with one
// load, and 4 vectors (61 elements, the last 13 lanes: masked loads) make
// the plane where 7 row vectors would. A vector's lanes of output row r
// go to 7r + c: one masked store per row, constant masks, the lanes moved
// down first where the store would start before the plane (row 1 of the
// first vector: lanes 9-15 to elements 7-13).
// CHECK-LABEL: func @depthwise_flat
// CHECK-DAG: %[[ROW0:.*]] = arith.constant dense<[true, true, true, true, true, true, true, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK-DAG: %[[ROW1:.*]] = arith.constant dense<[false, false, false, false, false, false, false, true, true, true, true, true, true, true, false, false]> : vector<16xi1>
// CHECK-DAG: %[[ROW2:.*]] = arith.constant dense<[false, false, true, true, true, true, true, true, true, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK: %[[X:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]] : memref<1x2x9x9xf32> into memref<162xf32>
// CHECK: %[[Y:.*]] = memref.collapse_shape %arg3 {{\[\[}}0, 1, 2, 3, 4]] : memref<1x2x1x7x7xf32> into memref<98xf32>
// CHECK: scf.for %[[P:.*]] = %c0 to %c2 step %c1 {
// CHECK-COUNT-10: vector.broadcast
// CHECK: %[[IN:.*]] = arith.muli %[[P]], %c81
// CHECK: %[[OUT:.*]] = arith.muli %[[P]], %c49
// CHECK: vector.load %[[X]][%[[IN]]]
// CHECK-COUNT-8: vector.load %[[X]]
// CHECK: %[[V0:.*]] = vector.fma
// CHECK-NEXT: vector.maskedstore %[[Y]][%[[OUT]]], %[[ROW0]], %[[V0]]
// CHECK-NEXT: %[[DOWN:.*]] = vector.shuffle %[[V0]], %[[V0]] [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15]
// CHECK-NEXT: vector.maskedstore %[[Y]][%[[OUT]]], %[[ROW1]], %[[DOWN]]
// CHECK: %[[AT:.*]] = arith.addi %[[OUT]], %c12
// CHECK: vector.maskedstore %[[Y]][%[[AT]]], %[[ROW2]]
// CHECK-COUNT-3: vector.maskedstore %[[Y]]
// CHECK-COUNT-9: vector.maskedload %[[X]]
// CHECK-COUNT-2: vector.maskedstore %[[Y]]
// CHECK-NOT: vector.load
// CHECK-NOT: vector.maskedstore
// CHECK: return
func.func @depthwise_flat(%x: memref<1x2x9x9xf32>, %w: memref<2x1x1x3x3xf32>, %bias: memref<2x1x1x1xf32>, %y: memref<1x2x1x7x7xf32>) {
  linalg.generic {indexing_maps = [#dw_bias, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%bias : memref<2x1x1x1xf32>) outs(%y : memref<1x2x1x7x7xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x2x9x9xf32>, memref<2x1x1x3x3xf32>) outs(%y : memref<1x2x1x7x7xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A depthwise conv's padded input (what bufferizing a tensor.pad leaves):
// the pad's four border fills move into the kernel, which writes each
// plane's borders before its planes' rows are read: the top and bottom
// rows in vectors (6 lanes), the interior rows' right element and the next
// row's left one as one store of two, and the first left and last right
// element alone. The producer writes the interior (a subview apart from
// every border).
// CHECK-LABEL: func @depthwise_padded
// CHECK-NOT: linalg.fill
// CHECK: %[[PAD:.*]] = memref.alloc() : memref<1x2x6x6xf32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[PAD]] {{\[\[}}0, 1, 2, 3]]
// CHECK: scf.for %[[P:.*]] = %c0 to %c2 step %c1 {
// CHECK:   %[[N:.*]] = arith.divsi %[[P]], %c2
// CHECK:   %[[C:.*]] = arith.remsi %[[P]], %c2
// CHECK:   vector.maskedstore %[[PAD]][%[[N]], %[[C]], %c0, %c0], %{{.*}}, %[[ZEROS:.*]] :
// CHECK:   vector.maskedstore %[[PAD]][%[[N]], %[[C]], %c5, %c0], %{{.*}}, %[[ZEROS]] :
// CHECK:   memref.store %[[ZERO:.*]], %[[PAD]][%[[N]], %[[C]], %c1, %c0]
// CHECK:   memref.store %[[ZERO]], %[[PAD]][%[[N]], %[[C]], %c4, %c5]
// CHECK:   %[[BASE:.*]] = arith.muli %[[P]], %c36
// CHECK:   %[[AT:.*]] = arith.addi %[[BASE]], %c11
// CHECK:   vector.store %[[TWO:.*]], %[[FLAT]][%[[AT]]] : memref<72xf32>, vector<2xf32>
// CHECK-COUNT-2: vector.store %[[TWO]], %[[FLAT]]
// CHECK-NOT: vector.store %[[TWO]]
// CHECK: }
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// CHECK-COUNT-9: vector.broadcast
// CHECK:   scf.for
// CHECK:     vector.fma
// A fill that the producer overwrites in part stays where it is.
// CHECK-LABEL: func @depthwise_padded_overlap
// CHECK: linalg.fill
// CHECK: linalg.fill
// CHECK: linalg.fill
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK-NOT: vector<2xf32>
func.func @depthwise_padded(%in: memref<1x2x4x4xf32>, %w: memref<2x1x1x3x3xf32>, %y: memref<1x2x1x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<1x2x6x6xf32>
  %top = memref.subview %pad[0, 0, 0, 0] [1, 2, 1, 6] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x1x6xf32, strided<[72, 36, 6, 1]>>
  linalg.fill ins(%zero : f32) outs(%top : memref<1x2x1x6xf32, strided<[72, 36, 6, 1]>>)
  %bottom = memref.subview %pad[0, 0, 5, 0] [1, 2, 1, 6] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x1x6xf32, strided<[72, 36, 6, 1], offset: 30>>
  linalg.fill ins(%zero : f32) outs(%bottom : memref<1x2x1x6xf32, strided<[72, 36, 6, 1], offset: 30>>)
  %left = memref.subview %pad[0, 0, 1, 0] [1, 2, 4, 1] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 6>>
  linalg.fill ins(%zero : f32) outs(%left : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 6>>)
  %right = memref.subview %pad[0, 0, 1, 5] [1, 2, 4, 1] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 11>>
  linalg.fill ins(%zero : f32) outs(%right : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 11>>)
  %inner = memref.subview %pad[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  memref.copy %in, %inner : memref<1x2x4x4xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%pad, %w : memref<1x2x6x6xf32>, memref<2x1x1x3x3xf32>) outs(%y : memref<1x2x1x4x4xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @depthwise_padded_overlap(%in: memref<1x2x5x4xf32>, %w: memref<2x1x1x3x3xf32>, %y: memref<1x2x1x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<1x2x6x6xf32>
  %top = memref.subview %pad[0, 0, 0, 0] [1, 2, 1, 6] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x1x6xf32, strided<[72, 36, 6, 1]>>
  linalg.fill ins(%zero : f32) outs(%top : memref<1x2x1x6xf32, strided<[72, 36, 6, 1]>>)
  %bottom = memref.subview %pad[0, 0, 5, 0] [1, 2, 1, 6] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x1x6xf32, strided<[72, 36, 6, 1], offset: 30>>
  linalg.fill ins(%zero : f32) outs(%bottom : memref<1x2x1x6xf32, strided<[72, 36, 6, 1], offset: 30>>)
  %left = memref.subview %pad[0, 0, 1, 0] [1, 2, 4, 1] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 6>>
  linalg.fill ins(%zero : f32) outs(%left : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 6>>)
  %right = memref.subview %pad[0, 0, 1, 5] [1, 2, 4, 1] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 11>>
  linalg.fill ins(%zero : f32) outs(%right : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 11>>)
  // Rows 1 to 5: over the bottom border.
  %inner = memref.subview %pad[0, 0, 1, 1] [1, 2, 5, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x5x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  memref.copy %in, %inner : memref<1x2x5x4xf32> to memref<1x2x5x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%pad, %w : memref<1x2x6x6xf32>, memref<2x1x1x3x3xf32>) outs(%y : memref<1x2x1x4x4xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A stride-1 3x3 depthwise conv, 16 outputs a row. By default each input
// row is read once per vector (16 lanes and 16 more, of which 2 are the
// row's: masked in the plane's last row) and taps 1 and 2 are
// its lanes shifted down one and two. With tap-loads (AVX2's 8 lanes, whose
// shifts cross the 128-bit halves) each tap is a load of its own: for each
// of the row's two vectors, three loads of each of the three input rows,
// one element apart, and no shuffle.
// CHECK-LABEL: func @depthwise_stride1
// CHECK-DAG: %[[M2:.*]] = arith.constant dense<[true, true, false, false, false, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK:     %[[S0:.*]] = vector.load %arg0[{{.*}}, %c0]
// CHECK:     %[[S1:.*]] = vector.load %arg0[{{.*}}, %c16]
// CHECK:     vector.shuffle %[[S0]], %[[S1]] [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
// CHECK:     vector.shuffle %[[S0]], %[[S1]] [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
// TAPS-LABEL: func @depthwise_stride1
// TAPS:     scf.for %{{.*}} = %c0 to %c3 step %c1
// TAPS:       scf.for %[[V:.*]] = %c0 to %c2 step %c1
// TAPS:         %[[W0:.*]] = arith.muli %[[V]], %c8
// TAPS:         %[[R0:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %[[W0]]] : memref<1x2x6x18xf32>, vector<8xf32>
// TAPS:         %[[W1:.*]] = arith.addi %[[W0]], %c1
// TAPS:         %[[R1:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %[[W1]]]
// TAPS:         %[[W2:.*]] = arith.addi %[[W0]], %c2
// TAPS:         %[[R2:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %[[W2]]]
// TAPS:         vector.fma %{{.*}}, %[[R0]]
// TAPS:         vector.fma %{{.*}}, %[[R1]]
// TAPS:         vector.fma %{{.*}}, %[[R2]]
// TAPS-COUNT-3: vector.load %arg0
// TAPS-COUNT-3: vector.fma
// TAPS-COUNT-3: vector.load %arg0
// TAPS-COUNT-3: vector.fma
// TAPS-NEXT:    vector.store
// TAPS-NOT: vector.shuffle
// TAPS:     return
// With rows=2, output rows 0 and 1 are made together: their accumulators
// start, then input rows 0 to 3 are each read (two vectors) and shuffled
// once, row 0 feeding output row 0, rows 1 and 2 both, row 3 output row 1
// (12 input loads row by row, 8 here); then output row 2 alone (the
// rows before the plane's last in blocks of 2), and the last row.
// ROWS-LABEL: func @depthwise_stride1
// ROWS:     %[[A0:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %c0, %c0]
// ROWS:     %[[A1:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %c1, %c0]
// ROWS:     %[[I0:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c0, %c0]
// ROWS:     %[[R0:.*]] = vector.fma %{{.*}}, %[[I0]], %[[A0]]
// ROWS:     %[[I1:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c1, %c0]
// ROWS:     vector.fma %{{.*}}, %[[I1]], %{{.*}}
// ROWS:     vector.fma %{{.*}}, %[[I1]], %[[A1]]
// ROWS:     %[[I2:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c2, %c0]
// ROWS:     vector.fma %{{.*}}, %[[I2]], %{{.*}}
// ROWS:     vector.fma %{{.*}}, %[[I2]], %{{.*}}
// ROWS:     %[[I3:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c3, %c0]
// ROWS:     vector.load %arg0[%{{.*}}, %{{.*}}, %c3, %c16]
// ROWS-NOT: vector.load %arg0
// ROWS:     vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0, %c0, %c0]
// ROWS-NEXT: vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0, %c1, %c0]
// ROWS:     vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %c2, %c0]
// ROWS-COUNT-6: vector.load %arg0
// ROWS:     vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0, %c2, %c0]
// ROWS:     vector.load %arg2[%{{.*}}, %{{.*}}, %c0, %c3, %c0]
// ROWS:     vector.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %c0, %c3, %c0]
// ROWS:     return
func.func @depthwise_stride1(%x: memref<1x2x6x18xf32>, %w: memref<2x1x1x3x3xf32>, %y: memref<1x2x1x4x16xf32>) {
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : memref<1x2x6x18xf32>, memref<2x1x1x3x3xf32>) outs(%y : memref<1x2x1x4x16xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A grouped convolution (2 groups, each 4 input planes to 4 output planes,
// weights [g, fg, cg, kh, kw]) as the depthwise generic: a unit is a block
// of 4 output planes of one group; for each pair of output rows and each
// block of vectors along them, the sums stay in registers through an
// scf.for over the group's 4 input planes, each tap used by the 4 planes
// and each weight broadcast once for the block, each tap (stride 1) a load
// of its own right before its use. 16 lanes: both vectors of a row (16 and
// a masked 2) in one block, 4 x 2 x 2 sums; rows 0 and 1 read their input
// rows' ends as whole vectors (each has a next row in its plane), rows 2
// and 3 (the plane's last) masked. 8 lanes: 4 x 2 sums of one vector, the
// two full vectors a loop, then the masked last one.
// CHECK-LABEL: func @grouped
// CHECK: scf.for %[[U:.*]] = %c0 to %c2 step %c1
// CHECK-COUNT-8: vector.maskedload %arg2
// CHECK:   %[[S:.*]]:16 = scf.for %[[K:.*]] = %c0 to %c4 step %c1 iter_args(
// CHECK:     %[[IN:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c0, %c0] : memref<1x8x6x20xf32>, vector<16xf32>
// CHECK:     %[[END:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c0, %c16] : memref<1x8x6x20xf32>, vector<16xf32>
// CHECK:     %[[W:.*]] = memref.load %arg1[%{{.*}}, %{{.*}}, %[[K]], %c0, %c0] : memref<2x4x4x3x3xf32>
// CHECK:     %[[WV:.*]] = vector.broadcast %[[W]]
// CHECK:     vector.fma %[[WV]], %[[IN]], %{{.*}} : vector<16xf32>
// CHECK:     vector.fma %[[WV]], %[[END]], %{{.*}} : vector<16xf32>
// CHECK-COUNT-14: vector.fma
// CHECK:     %[[TAP1:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %c0, %c1] : memref<1x8x6x20xf32>, vector<16xf32>
// CHECK-COUNT-128: vector.fma
// CHECK-NOT: vector.fma
// CHECK:     scf.yield
// CHECK:   vector.store %[[S]]#0, %arg2[%{{.*}}, %{{.*}}, %{{.*}}, %c0, %c0] : memref<1x2x4x4x18xf32>, vector<16xf32>
// CHECK:   vector.maskedstore %arg2[%{{.*}}, %{{.*}}, %{{.*}}, %c0, %c16], %{{.*}}, %[[S]]#1
// CHECK-COUNT-7: vector.maskedstore
// CHECK:   %[[L:.*]]:16 = scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(
// CHECK:     vector.maskedload %arg0[%{{.*}}, %{{.*}}, %c2, %c16]
// CHECK:     scf.yield
// CHECK-NOT: linalg.generic
// TAPS-LABEL: func @grouped
// TAPS: scf.for %[[U:.*]] = %c0 to %c2 step %c1
// TAPS:   scf.for %[[V:.*]] = %c0 to %c2 step %c1
// TAPS:     %[[S:.*]]:8 = scf.for %[[K:.*]] = %c0 to %c4 step %c1 iter_args(
// TAPS-COUNT-72: vector.fma
// TAPS-NOT:   vector.fma
// TAPS:       scf.yield
// TAPS-COUNT-8: vector.store
// TAPS:   %[[T:.*]]:8 = scf.for %[[K2:.*]] = %c0 to %c4 step %c1 iter_args(
// TAPS:   scf.yield
// TAPS-COUNT-8: vector.maskedstore
// TAPS:   scf.for %[[V2:.*]] = %c0 to %c2 step %c1
func.func @grouped(%x: memref<1x8x6x20xf32>, %w: memref<2x4x4x3x3xf32>, %y: memref<1x2x4x4x18xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, g, f, c, i, j, h, w) -> (n, g * 4 + c, h + i, w + j)>, affine_map<(n, g, f, c, i, j, h, w) -> (g, f, c, i, j)>, affine_map<(n, g, f, c, i, j, h, w) -> (n, g, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%x, %w : memref<1x8x6x20xf32>, memref<2x4x4x3x3xf32>) outs(%y : memref<1x2x4x4x18xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Stride 2 with tap-loads (AVX2), 2 output planes a group and a bias that
// fuses: each plane's sums start from its bias; the taps are built within
// 128-bit halves as the depthwise kernel's are (halvesTaps), the sums in
// that lane order until the group's input planes are done, then put back.
// TAPS-LABEL: func @grouped_s2_bias
// TAPS:   %[[B0:.*]] = memref.load %arg2[%{{.*}}, %{{.*}}, %c0, %c0] : memref<2x2x1x1xf32>
// TAPS:   %[[V0:.*]] = vector.broadcast %[[B0]]
// TAPS:   %[[B1:.*]] = memref.load %arg2[%{{.*}}, %{{.*}}, %c0, %c0] : memref<2x2x1x1xf32>
// TAPS:   %[[V1:.*]] = vector.broadcast %[[B1]]
// TAPS:   %[[S:.*]]:8 = scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %[[V0]], %{{.*}} = %[[V0]], %{{.*}} = %[[V0]], %{{.*}} = %[[V0]], %{{.*}} = %[[V1]], %{{.*}} = %[[V1]], %{{.*}} = %[[V1]], %{{.*}} = %[[V1]])
// TAPS:     vector.shuffle %{{.*}}, %{{.*}} [0, 2, 8, 10, 4, 6, 12, 14]
// TAPS:     vector.shuffle %{{.*}}, %{{.*}} [1, 3, 9, 11, 5, 7, 13, 15]
// TAPS-COUNT-72: vector.fma
// TAPS:     scf.yield
// TAPS:   %[[R0:.*]] = vector.shuffle %[[S]]#0, %[[S]]#0 [0, 1, 4, 5, 2, 3, 6, 7]
// TAPS:   vector.store %[[R0]], %arg3
// TAPS:   %[[R1:.*]] = vector.shuffle %[[S]]#1, %[[S]]#1 [0, 1, 4, 5, 2, 3, 6, 7]
// TAPS:   vector.maskedstore %arg3[{{.*}}], %{{.*}}, %[[R1]]
func.func @grouped_s2_bias(%x: memref<1x4x9x19xf32>, %w: memref<2x2x2x3x3xf32>, %b: memref<2x2x1x1xf32>, %y: memref<1x2x2x4x9xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, g, f, h, w) -> (g, f, 0, 0)>, affine_map<(n, g, f, h, w) -> (n, g, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%b : memref<2x2x1x1xf32>) outs(%y : memref<1x2x2x4x9xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, g, f, c, i, j, h, w) -> (n, g * 2 + c, h * 2 + i, w * 2 + j)>, affine_map<(n, g, f, c, i, j, h, w) -> (g, f, c, i, j)>, affine_map<(n, g, f, c, i, j, h, w) -> (n, g, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%x, %w : memref<1x4x9x19xf32>, memref<2x2x2x3x3xf32>) outs(%y : memref<1x2x2x4x9xf32>) attrs = {kiln.depthwise = array<i64: 2, 2, 1, 1>} {
  ^bb0(%a: f32, %b2: f32, %c: f32):
    %p = arith.mulf %a, %b2 : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}
