// RUN: kiln-opt %s --kiln-fuse-softmax="vector-width=8 parallel-min-work=64" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-fuse-softmax="vector-width=8 parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=SERIAL
// Softmax's four ops (and the scores' scale before them) become one kernel
// over rows: the maximum, exp written and summed, the scaling by 1 / sum.

#id = affine_map<(a, b, c, d) -> (a, b, c, d)>
#row = affine_map<(a, b, c, d) -> (a, b, c, 0)>

// Scores / 8, then Softmax, rows of 20 (two vectors and a tail of 4): the
// division by a power of two is a multiplication of each element read; the
// chain's buffers are gone.
// CHECK-LABEL: func.func private @scores_softmax0(
// CHECK-SAME: %[[IN:[^:]*]]: memref<8x20xf32>, %[[OUT:[^:]*]]: memref<8x20xf32>
// CHECK-DAG: %[[EIGHTH:.*]] = arith.constant dense<1.250000e-01> : vector<8xf32>
// CHECK-DAG: %[[TAIL:.*]] = arith.constant dense<[true, true, true, true, false, false, false, false]> : vector<8xi1>
// CHECK-DAG: %[[NINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[M8:.*]] = scf.for %[[C:.*]] = %c0 to %c16 step %c8 iter_args(%[[A:.*]] = %[[NINF]])
// CHECK:     %[[V:.*]] = vector.load %[[IN]][%[[R]], %[[C]]]
// CHECK:     arith.maximumf %[[V]], %[[A]]
// CHECK:   %[[T:.*]] = vector.maskedload %[[IN]][%[[R]], %c16], %[[TAIL]]
// CHECK:   %[[TM:.*]] = arith.select %[[TAIL]], %[[T]], %[[NINF]]
// CHECK:   arith.maximumf %[[TM]], %[[M8]]
// CHECK:   %[[MAX:.*]] = vector.extract %{{.*}}[0] : f32 from vector<1xf32>
// CHECK:   %[[MAXV:.*]] = vector.broadcast %[[MAX]]
// CHECK:   %[[MS:.*]] = arith.mulf %[[MAXV]], %[[EIGHTH]]
// CHECK:   %[[S8:.*]] = scf.for %[[C2:.*]] = %c0 to %c16 step %c8 iter_args(%[[B:.*]] = %{{.*}})
// CHECK:     %[[X:.*]] = vector.load %[[IN]][%[[R]], %[[C2]]]
// CHECK:     %[[XS:.*]] = arith.mulf %[[X]], %[[EIGHTH]]
// CHECK:     %[[D:.*]] = arith.subf %[[XS]], %[[MS]]
// CHECK:     %[[E:.*]] = math.exp %[[D]]
// CHECK:     vector.store %[[E]], %[[OUT]][%[[R]], %[[C2]]]
// CHECK:     arith.addf %[[E]], %[[B]]
// CHECK:   vector.maskedstore %[[OUT]][%[[R]], %c16], %[[TAIL]]
// CHECK:   %[[SUM:.*]] = vector.extract %{{.*}}[0] : f32 from vector<1xf32>
// CHECK:   %[[INV:.*]] = arith.divf %cst, %[[SUM]] : f32
// CHECK:   %[[INVV:.*]] = vector.broadcast %[[INV]]
// CHECK:   scf.for
// CHECK:     %[[Y:.*]] = vector.load %[[OUT]]
// CHECK:     %[[YS:.*]] = arith.mulf %[[Y]], %[[INVV]]
// CHECK:     vector.store %[[YS]], %[[OUT]]
// CHECK:   vector.maskedstore %[[OUT]][%[[R]], %c16], %[[TAIL]]
// CHECK-LABEL: func.func @scores(
// CHECK-SAME: %[[Q:[^:]*]]: memref<1x2x4x20xf32>, %[[P:[^:]*]]: memref<1x2x4x20xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// CHECK: %[[QF:.*]] = memref.collapse_shape %[[Q]] {{\[\[}}0, 1, 2], [3]]
// CHECK: %[[PF:.*]] = memref.collapse_shape %[[P]] {{\[\[}}0, 1, 2], [3]]
// CHECK: call @scores_softmax0_dispatch(%{{.*}}, %[[QF]], %[[PF]],
// CHECK-NOT: linalg.
// CHECK: return
// Without threads, the same rows in a loop of the function's own.
// SERIAL-LABEL: func.func @scores(
// SERIAL-NOT: linalg.
// SERIAL: scf.for
// SERIAL: math.exp
// SERIAL-NOT: call
// SERIAL-NOT: linalg.
// SERIAL: return
func.func @scores(%q: memref<1x2x4x20xf32>, %y: memref<1x2x4x20xf32>) {
  %c8 = arith.constant 8.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x2x4x20xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : memref<1x2x4x20xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.divf %in, %c8 : f32
    linalg.yield %0 : f32
  }
  %m = memref.alloc() : memref<1x2x4x1xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%zero : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%y : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  }
  return
}

// A division by 3 is not a multiplication: it stays, and the softmax after
// it reads its result.
// CHECK-LABEL: func.func @div3(
// CHECK: linalg.generic
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: linalg.yield
// CHECK-NOT: linalg.
// CHECK: call @div3_softmax0_dispatch
// CHECK-NOT: linalg.
func.func @div3(%q: memref<1x2x4x20xf32>, %y: memref<1x2x4x20xf32>) {
  %c8 = arith.constant 3.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x2x4x20xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : memref<1x2x4x20xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.divf %in, %c8 : f32
    linalg.yield %0 : f32
  }
  %m = memref.alloc() : memref<1x2x4x1xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%zero : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%y : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  }
  return
}

// exp(x - max) is read again after the chain: nothing is fused.
// CHECK-LABEL: func.func @exp_read_after(
// CHECK-COUNT-4: linalg.generic
// CHECK: memref.copy
func.func @exp_read_after(%q: memref<1x2x4x20xf32>, %y: memref<1x2x4x20xf32>, %e: memref<1x2x4x20xf32>) {
  %c8 = arith.constant 8.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x2x4x20xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : memref<1x2x4x20xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.divf %in, %c8 : f32
    linalg.yield %0 : f32
  }
  %m = memref.alloc() : memref<1x2x4x1xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%x : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%zero : f32) outs(%m : memref<1x2x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x2x4x20xf32>) outs(%m : memref<1x2x4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m : memref<1x2x4x20xf32>, memref<1x2x4x1xf32>) outs(%y : memref<1x2x4x20xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  }
  memref.copy %x, %e : memref<1x2x4x20xf32> to memref<1x2x4x20xf32>
  return
}
