// A plain GEMM (not a batch, no dot-product tail) of fewer rows than
// pack-min-rows-plain reads B in place; with a dot-product tail (which reads
// B packed), as a batch, or with as many rows, it still packs from
// pack-min-rows (128). Without the option every GEMM of 128 rows packs.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows-plain=256" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=ALL

// CHECK-LABEL: func.func @plain
// CHECK-NOT: memref.alloc
// CHECK: vector.load %arg1[{{.*}}] : memref<64x256xf32>, vector<16xf32>
// CHECK-NOT: memref.alloc
// CHECK-LABEL: func.func @tail
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x64x48xf32>
// CHECK-LABEL: func.func @batch
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8x64x32xf32>
// CHECK-LABEL: func.func @big
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8x64x32xf32>

// ALL-LABEL: func.func @plain
// ALL: memref.alloc() {alignment = 64 : i64} : memref<8x64x32xf32>
// ALL-LABEL: func.func @tail
// ALL: memref.alloc() {alignment = 64 : i64} : memref<3x64x48xf32>

func.func @plain(%a: memref<128x64xf32>, %b: memref<64x256xf32>, %c: memref<128x256xf32>) {
  linalg.matmul ins(%a, %b : memref<128x64xf32>, memref<64x256xf32>) outs(%c : memref<128x256xf32>)
  return
}

// 49 columns: 48 and a dot-product tail of 1.
func.func @tail(%a: memref<128x64xf32>, %b: memref<64x49xf32>, %c: memref<128x49xf32>) {
  linalg.matmul ins(%a, %b : memref<128x64xf32>, memref<64x49xf32>) outs(%c : memref<128x49xf32>)
  return
}

func.func @batch(%a: memref<2x128x64xf32>, %b: memref<2x64x256xf32>, %c: memref<2x128x256xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x128x64xf32>, memref<2x64x256xf32>) outs(%c : memref<2x128x256xf32>)
  return
}

func.func @big(%a: memref<256x64xf32>, %b: memref<64x256xf32>, %c: memref<256x256xf32>) {
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x256xf32>) outs(%c : memref<256x256xf32>)
  return
}
