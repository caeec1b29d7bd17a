// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false int8-dot=vnni" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=WIDEN
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false int8-dot=smlad tile-m=4 tile-n-vectors=1 vector-width=4" --canonicalize --cse | FileCheck %s --check-prefix=SMLAD
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false int8-dot=maddubs tile-m=6 vector-width=8" --canonicalize --cse | FileCheck %s --check-prefix=MADDUBS
// An 8-bit contraction (signed weights by unsigned activations into i32)
// runs four bytes of k per step: the constant weights become i32 words of
// four consecutive k at compile time (K = 6: two words a row, the second
// zero-padded), B is packed into byte panels [k4][nr * 4] whose rows are
// interleaved byte by byte, and each step is one vpdpbusd per accumulator
// (or, without VNNI, four widening multiplies and adds). The
// requantization after it is the fused epilogue, stored as bytes.

// CHECK-NOT: memref.global "private" constant @w :
// CHECK: memref.global "private" constant @w_dot4 : memref<2x2xi32> = dense_resource<w_dot4>
memref.global "private" constant @w : memref<2x6xi8> = dense<[[1, 2, 3, 4, 5, 6], [-1, -2, -3, -4, -5, -6]]>

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (k, n)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func @int8_conv
// CHECK: %[[PACK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x128xi8>
// The packing: four rows of 16 bytes interleaved into 64.
// CHECK: vector.shuffle {{.*}} : vector<16xi8>, vector<16xi8>
// CHECK: vector.shuffle {{.*}}[0, 16, 32, 48, 1, 17, 33, 49,
// CHECK-SAME: vector<32xi8>, vector<32xi8>
// CHECK: vector.store {{.*}}, %[[PACK]]{{.*}} : memref<1x2x128xi8>, vector<64xi8>
// The kernel: words of B, a broadcast word of A, vpdpbusd.
// CHECK: scf.for
// CHECK: vector.load %[[PACK]]{{.*}} : memref<1x2x128xi8>, vector<64xi8>
// CHECK: vector.bitcast {{.*}} : vector<64xi8> to vector<16xi32>
// CHECK: memref.load {{.*}} : memref<2x2xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// The epilogue, stored as bytes under a mask (20 columns: 16 and 4).
// CHECK: math.roundeven {{.*}} : vector<16xf32>
// CHECK: arith.fptoui {{.*}} : vector<16xf32> to vector<16xi8>
// CHECK: vector.maskedstore {{.*}} : memref<2x20xi8>, vector<16xi1>, vector<16xi8>
// CHECK-NOT: linalg.generic
// On an Arm M-profile core with the DSP extension, each lane's 4-byte dot
// product is two SMLADs: bytes 0 and 2 of the activations' word (UXTB16)
// by those of the weights' (SXTB16), then bytes 1 and 3 (rotated by 8).
// SMLAD-LABEL: func @int8_conv
// SMLAD: llvm.call_intrinsic "llvm.arm.sxtb16"
// SMLAD: llvm.call_intrinsic "llvm.arm.uxtb16"
// SMLAD: llvm.call_intrinsic "llvm.arm.smlad"
// SMLAD: arith.shrui {{.*}} : i32
// SMLAD: llvm.call_intrinsic "llvm.arm.smlad"
// SMLAD-NOT: arith.muli {{.*}} : vector<4xi32>
// On x86 without VNNI, vpmaddubsw sums the products of bytes 0-1 and 2-3
// in 16 bits (saturating) and vpmaddwd by ones adds the two into the lane:
// exact here, as no pair of consecutive weights can reach 2^15.
// MADDUBS-LABEL: func @int8_conv
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"({{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"({{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// MADDUBS-NOT: arith.muli
// Weights that could saturate it are split into w >> 1 and w & 1 (two
// words per step, side by side): 2 * dot(u, w >> 1) + dot(u, w & 1).
// MADDUBS-LABEL: func @int8_conv_saturating
// MADDUBS-DAG: %[[TWOS:.*]] = arith.constant dense<2> : vector<16xi16>
// MADDUBS-DAG: %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
// MADDUBS: memref.load {{.*}} : memref<2x4xi32>
// MADDUBS: memref.load {{.*}} : memref<2x4xi32>
// MADDUBS: %[[HI:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[HI]], %[[TWOS]])
// MADDUBS: %[[LO:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[LO]], %[[ONES]])
// MADDUBS-NOT: arith.muli {{.*}} : vector
// WIDEN-LABEL: func @int8_conv
// WIDEN-NOT: llvm.call_intrinsic
// WIDEN: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// WIDEN: arith.extsi {{.*}} : vector<16xi8> to vector<16xi32>
// WIDEN: arith.muli {{.*}} : vector<16xi32>
func.func @int8_conv(%b: memref<6x20xi8>, %mult: memref<2xf32>, %y: memref<2x20xi8>) {
  %a = memref.get_global @w : memref<2x6xi8>
  %c = memref.alloc() : memref<2x20xi32>
  %zero = arith.constant 0 : i32
  linalg.fill ins(%zero : i32) outs(%c : memref<2x20xi32>)
  linalg.generic {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x6xi8>, memref<6x20xi8>) outs(%c : memref<2x20xi32>) {
  ^bb0(%x: i8, %w: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %w : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %mult : memref<2x20xi32>, memref<2xf32>) outs(%y : memref<2x20xi8>) {
  ^bb0(%v: i32, %m: f32, %out: i8):
    %f = arith.sitofp %v : i32 to f32
    %s = arith.mulf %f, %m : f32
    %r = math.roundeven %s : f32
    %lo = arith.constant 0.0 : f32
    %hi = arith.constant 255.0 : f32
    %c1 = arith.maximumf %r, %lo : f32
    %c2 = arith.minimumf %c1, %hi : f32
    %q = arith.fptoui %c2 : f32 to i8
    linalg.yield %q : i8
  }
  return
}

// Weights 100 and 29 side by side (bytes 0 and 1 of a word): 255 * 129
// overflows vpmaddubsw's 16-bit sum, so x86 without VNNI splits them.
memref.global "private" constant @w_big : memref<2x6xi8> = dense<[[100, 29, 3, 4, 5, 6], [-1, -2, -3, -4, -5, -6]]>
func.func @int8_conv_saturating(%b: memref<6x20xi8>, %c: memref<2x20xi32>) {
  %a = memref.get_global @w_big : memref<2x6xi8>
  linalg.generic {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x6xi8>, memref<6x20xi8>) outs(%c : memref<2x20xi32>) {
  ^bb0(%x: i8, %w: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %w : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// The last columns, fewer than a vector (49 = 48 + 1 here), are dot
// products along k rather than a vector of 15 idle lanes: the tail
// column's bytes are packed one after another past the chunk's panels (a
// third panel in the buffer, zeros up to a whole step), then 16 words of
// A's row times 16 of the column's per vpdpbusd (the last step masked:
// k4 = 18), summed across the lanes, added to C's row in lane 0.
// CHECK-LABEL: func @int8_dot_tail
// CHECK: %[[TPACK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3x18x192xi8>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[TPACK]] {{\[\[}}0, 1, 2]] : memref<3x18x192xi8> into memref<10368xi8>
// CHECK: scf.for %[[K:.*]] = %c0 to %c70 step %c1
// CHECK-NEXT: memref.load %arg0[%[[K]], %c48] : memref<70x49xi8>
// CHECK: memref.store {{.*}}, %[[FLAT]]
// CHECK: scf.for {{.*}} = %c70 to %c128 step %c1
// CHECK: memref.store {{.*}}, %[[FLAT]]
// CHECK: vector.load %[[FLAT]][%c6912] : memref<10368xi8>, vector<64xi8>
// CHECK: vector.load {{.*}}[%c0, %c0] : memref<9x18xi32>, vector<16xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: vector.load %[[FLAT]][%c6976] : memref<10368xi8>, vector<64xi8>
// CHECK: vector.maskedload {{.*}}[%c0, %c16], {{.*}} : memref<9x18xi32>, vector<16xi1>, vector<16xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: vector.reduction <add>, {{.*}} : vector<16xi32> into i32
// CHECK: vector.insert {{.*}} [0] : i32 into vector<16xi32>
// CHECK: vector.maskedstore %arg1[%c0, %c48]
memref.global "private" constant @w9 : memref<9x70xi8> = dense<1>
func.func @int8_dot_tail(%b: memref<70x49xi8>, %c: memref<9x49xi32>) {
  %a = memref.get_global @w9 : memref<9x70xi8>
  linalg.generic {indexing_maps = [#mA, #mB, #mC], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<9x70xi8>, memref<70x49xi8>) outs(%c : memref<9x49xi32>) {
  ^bb0(%x: i8, %w: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %w : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// The words of @w, little-endian: 1 2 3 4 | 5 6 0 0 | -1 -2 -3 -4 | -5 -6 0 0.
// CHECK: w_dot4: "0x040000000102030405060000FFFEFDFCFBFA0000"
// The split words of @w_big, per row and step w >> 1 then w & 1: 50 14 1 2
// | 0 1 1 0 | 2 3 0 0 | 1 0 0 0, then -1 -1 -2 -2 | 1 0 1 0 | -3 -3 0 0 |
// 1 0 0 0.
// MADDUBS: w_big_dot4_split: "0x04000000320E0102000101000203000001000000FFFFFEFE01000100FDFD000001000000"
