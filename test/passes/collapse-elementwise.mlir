// RUN: kiln-opt %s --kiln-collapse-elementwise | FileCheck %s

// An elementwise generic's trailing dims, contiguous in every operand, are
// one loop.
// CHECK-LABEL: func.func @add
// CHECK-DAG: %[[A:.*]] = memref.collapse_shape %arg0 {{\[}}[0], [1, 2]] : memref<4x7x7xf32> into memref<4x49xf32>
// CHECK-DAG: %[[C:.*]] = memref.collapse_shape %arg1 {{\[}}[0], [1, 2]] : memref<4x7x7xf32, strided<[64, 7, 1]>> into memref<4x49xf32, strided<[64, 1]>>
// CHECK: linalg.generic {{.*}} ins(%[[A]] : memref<4x49xf32>) outs(%[[C]] : memref<4x49xf32, strided<[64, 1]>>)
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @add(%a: memref<4x7x7xf32>, %c: memref<4x7x7xf32, strided<[64, 7, 1]>>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<4x7x7xf32>) outs(%c : memref<4x7x7xf32, strided<[64, 7, 1]>>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// A fill's contiguous dims are one, leading ones too: a batch's top border
// rows ([images][channels][1][columns] of a padded buffer) one loop over the
// images' channels and one over the columns.
// CHECK-LABEL: func.func @border_rows
// CHECK: %[[V:.*]] = memref.collapse_shape %arg0 {{\[}}[0, 1, 2], [3]] : memref<8x64x1x58xf32, strided<[215296, 3364, 58, 1]>> into memref<512x58xf32, strided<[3364, 1]>>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[V]] : memref<512x58xf32, strided<[3364, 1]>>)
func.func @border_rows(%b: memref<8x64x1x58xf32, strided<[215296, 3364, 58, 1]>>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%b : memref<8x64x1x58xf32, strided<[215296, 3364, 58, 1]>>)
  return
}

// Its border columns: only the unit dim goes.
// CHECK-LABEL: func.func @border_columns
// CHECK: %[[V:.*]] = memref.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : memref<8x2x56x1xf32, strided<[215296, 3364, 58, 1]>> into memref<8x2x56xf32, strided<[215296, 3364, 58]>>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[V]] : memref<8x2x56xf32, strided<[215296, 3364, 58]>>)
func.func @border_columns(%b: memref<8x2x56x1xf32, strided<[215296, 3364, 58, 1]>>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%b : memref<8x2x56x1xf32, strided<[215296, 3364, 58, 1]>>)
  return
}

// Rows apart (20 floats, not 8 x 2): as it was.
// CHECK-LABEL: func.func @strided
// CHECK-NOT: memref.collapse_shape
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg0 : memref<4x8xf32, strided<[20, 2]>>)
func.func @strided(%b: memref<4x8xf32, strided<[20, 2]>>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%b : memref<4x8xf32, strided<[20, 2]>>)
  return
}
