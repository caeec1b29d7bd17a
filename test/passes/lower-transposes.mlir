// RUN: kiln-opt %s --kiln-lower-transposes=vector-width=8 --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-transposes=vector-width=4 --canonicalize --cse | FileCheck %s --check-prefix=W4
// A transpose that moves the innermost dimension becomes tiles of w x w:
// w loads along the source's rows, shuffles, w stores along the
// destination's rows; the edges stay transposes of subviews.

// An attention's K^T at sequence 20: 8 x 8 tiles over the head dim (24, 3
// tiles) and the sequence (2 tiles), the last 4 positions an edge.
// CHECK-LABEL: func.func @kt(
// CHECK-SAME: %[[K:[^:]*]]: memref<1x20x3x24xf32>, %[[KT:[^:]*]]: memref<1x3x24x20xf32>
// CHECK: scf.for %[[H:.*]] = %c0 to %c3 step %c1 {
// CHECK:   scf.for %[[D:.*]] = %c0 to %c24 step %c8 {
// CHECK:     scf.for %[[S:.*]] = %c0 to %c16 step %c8 {
// CHECK:       %[[R0:.*]] = vector.load %[[K]][%c0, %[[S]], %[[H]], %[[D]]] : memref<1x20x3x24xf32>, vector<8xf32>
// CHECK:       %[[S1:.*]] = arith.addi %[[S]], %c1 : index
// CHECK:       %[[R1:.*]] = vector.load %[[K]][%c0, %[[S1]], %[[H]], %[[D]]]
// CHECK-COUNT-6: vector.load %[[K]]
// CHECK:       %[[T0:.*]] = vector.shuffle %[[R0]], %[[R1]] [0, 8, 1, 9, 4, 12, 5, 13]
// CHECK:       vector.shuffle %[[R0]], %[[R1]] [2, 10, 3, 11, 6, 14, 7, 15]
// CHECK-COUNT-2: vector.shuffle
// CHECK:       %[[P0:.*]] = vector.shuffle %[[T0]], %{{.*}} [0, 1, 8, 9, 4, 5, 12, 13]
// CHECK-COUNT-11: vector.shuffle
// CHECK:       %[[O0:.*]] = vector.shuffle %[[P0]], %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK:       %[[O4:.*]] = vector.shuffle %[[P0]], %{{.*}} [4, 5, 6, 7, 12, 13, 14, 15]
// CHECK-COUNT-6: vector.shuffle
// CHECK:       vector.store %[[O0]], %[[KT]][%c0, %[[H]], %[[D]], %[[S]]] : memref<1x3x24x20xf32>, vector<8xf32>
// CHECK-COUNT-3: vector.store
// CHECK:       %[[D4:.*]] = arith.addi %[[D]], %c4 : index
// CHECK:       vector.store %[[O4]], %[[KT]][%c0, %[[H]], %[[D4]], %[[S]]]
// CHECK-COUNT-3: vector.store
// CHECK-NOT: vector.store
// CHECK: %[[IN:.*]] = memref.subview %[[K]][0, 16, 0, 0] [1, 4, 3, 24] [1, 1, 1, 1]
// CHECK: %[[OUT:.*]] = memref.subview %[[KT]][0, 0, 0, 16] [1, 3, 24, 4] [1, 1, 1, 1]
// CHECK: linalg.transpose ins(%[[IN]] : {{.*}}) outs(%[[OUT]] : {{.*}}) permutation = [0, 2, 3, 1]
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @kt(%k: memref<1x20x3x24xf32>, %kt: memref<1x3x24x20xf32>) {
  linalg.transpose ins(%k : memref<1x20x3x24xf32>) outs(%kt : memref<1x3x24x20xf32>) permutation = [0, 2, 3, 1]
  return
}

// 32-bit integers move the same way. At 4 lanes: one tile of 4 x 4 (two
// rounds of shuffles), then both edges: the destination's last row, and
// its last two columns above it. At 8 lanes the matrix is too small.
// CHECK-LABEL: func.func @ragged(
// CHECK-NEXT: linalg.transpose
// CHECK-NEXT: return
// W4-LABEL: func.func @ragged(
// W4-SAME: %[[A:[^:]*]]: memref<6x5xi32>, %[[B:[^:]*]]: memref<5x6xi32>
// W4-NOT: scf.for
// W4: %[[R0:.*]] = vector.load %[[A]][%c0, %c0] : memref<6x5xi32>, vector<4xi32>
// W4: %[[R1:.*]] = vector.load %[[A]][%c1, %c0]
// W4: %[[R2:.*]] = vector.load %[[A]][%c2, %c0]
// W4: %[[R3:.*]] = vector.load %[[A]][%c3, %c0]
// W4: %[[T0:.*]] = vector.shuffle %[[R0]], %[[R1]] [0, 4, 1, 5]
// W4: %[[T1:.*]] = vector.shuffle %[[R0]], %[[R1]] [2, 6, 3, 7]
// W4: %[[T2:.*]] = vector.shuffle %[[R2]], %[[R3]] [0, 4, 1, 5]
// W4: %[[T3:.*]] = vector.shuffle %[[R2]], %[[R3]] [2, 6, 3, 7]
// W4: %[[C0:.*]] = vector.shuffle %[[T0]], %[[T2]] [0, 1, 4, 5]
// W4: %[[C1:.*]] = vector.shuffle %[[T0]], %[[T2]] [2, 3, 6, 7]
// W4: %[[C2:.*]] = vector.shuffle %[[T1]], %[[T3]] [0, 1, 4, 5]
// W4: %[[C3:.*]] = vector.shuffle %[[T1]], %[[T3]] [2, 3, 6, 7]
// W4: vector.store %[[C0]], %[[B]][%c0, %c0]
// W4: vector.store %[[C1]], %[[B]][%c1, %c0]
// W4: vector.store %[[C2]], %[[B]][%c2, %c0]
// W4: vector.store %[[C3]], %[[B]][%c3, %c0]
// W4: %[[E0:.*]] = memref.subview %[[A]][0, 4] [6, 1] [1, 1]
// W4: %[[F0:.*]] = memref.subview %[[B]][4, 0] [1, 6] [1, 1]
// W4: linalg.transpose ins(%[[E0]] : {{.*}}) outs(%[[F0]] : {{.*}}) permutation = [1, 0]
// W4: %[[E1:.*]] = memref.subview %[[A]][4, 0] [2, 4] [1, 1]
// W4: %[[F1:.*]] = memref.subview %[[B]][0, 4] [4, 2] [1, 1]
// W4: linalg.transpose ins(%[[E1]] : {{.*}}) outs(%[[F1]] : {{.*}}) permutation = [1, 0]
// W4-NEXT: return
func.func @ragged(%a: memref<6x5xi32>, %b: memref<5x6xi32>) {
  linalg.transpose ins(%a : memref<6x5xi32>) outs(%b : memref<5x6xi32>) permutation = [1, 0]
  return
}

// Q's and V's [S, H, D] to [H, S, D] keep the innermost dimension: rows
// are copied whole, and the pass leaves them.
// CHECK-LABEL: func.func @rows_stay(
// CHECK-NEXT: linalg.transpose
// CHECK-NEXT: return
func.func @rows_stay(%q: memref<1x16x4x16xf32>, %qt: memref<1x4x16x16xf32>) {
  linalg.transpose ins(%q : memref<1x16x4x16xf32>) outs(%qt : memref<1x4x16x16xf32>) permutation = [0, 2, 1, 3]
  return
}
