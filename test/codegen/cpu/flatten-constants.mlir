// RUN: kiln-opt %s --kiln-flatten-constants | FileCheck %s
// RUN: kiln-opt %s '--kiln-flatten-constants=bytes=false' | FileCheck %s --check-prefix=ELEMS
// Constant globals of arrays of scalars become one flat array of the same
// bytes: of bytes where the elements are whole bytes wider than one (and
// `bytes`, the target's byte order being the host's), else of the elements;
// their users are untouched.

// 1.0 to 6.0 as f32 (0x3F800000 ... 0x40C00000), little-endian.
// CHECK: llvm.mlir.global private constant @rows(dense<[0, 0, -128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, -128, 64, 0, 0, -96, 64, 0, 0, -64, 64]> : tensor<24xi8>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<24 x i8>
// ELEMS: llvm.mlir.global private constant @rows(dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00]> : tensor<6xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<6 x f32>
llvm.mlir.global private constant @rows(dense<[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]> : tensor<1x3x2xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<1 x array<3 x array<2 x f32>>>

// A dense_resource keeps its blob.
// CHECK: llvm.mlir.global private constant @blob(dense_resource<weights> : tensor<16xi8>) {addr_space = 0 : i32} : !llvm.array<16 x i8>
// ELEMS: llvm.mlir.global private constant @blob(dense_resource<weights> : tensor<4xi32>) {addr_space = 0 : i32} : !llvm.array<4 x i32>
llvm.mlir.global private constant @blob(dense_resource<weights> : tensor<2x2xi32>) {addr_space = 0 : i32} : !llvm.array<2 x array<2 x i32>>

// One already flat becomes bytes too.
// CHECK: llvm.mlir.global private constant @flat(dense<[0, 0, -128, 63, 0, 0, 0, 64]> : tensor<8xi8>) {addr_space = 0 : i32} : !llvm.array<8 x i8>
// ELEMS: llvm.mlir.global private constant @flat(dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>) {addr_space = 0 : i32} : !llvm.array<2 x f32>
llvm.mlir.global private constant @flat(dense<[1.0, 2.0]> : tensor<2xf32>) {addr_space = 0 : i32} : !llvm.array<2 x f32>

// A splat stays one, and elements of a byte or narrower stay elements.
// CHECK: llvm.mlir.global private constant @zeros(dense<0.000000e+00> : tensor<6xf32>) {addr_space = 0 : i32} : !llvm.array<6 x f32>
llvm.mlir.global private constant @zeros(dense<0.0> : tensor<2x3xf32>) {addr_space = 0 : i32} : !llvm.array<2 x array<3 x f32>>
// CHECK: llvm.mlir.global private constant @bools(dense<[true, false, false, true]> : tensor<4xi1>) {addr_space = 0 : i32} : !llvm.array<4 x i1>
llvm.mlir.global private constant @bools(dense<[[true, false], [false, true]]> : tensor<2x2xi1>) {addr_space = 0 : i32} : !llvm.array<2 x array<2 x i1>>
// CHECK: llvm.mlir.global private constant @int8(dense<[1, 2, 3, 4]> : tensor<4xi8>) {addr_space = 0 : i32} : !llvm.array<4 x i8>
llvm.mlir.global private constant @int8(dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>) {addr_space = 0 : i32} : !llvm.array<2 x array<2 x i8>>

// A scalar, or arrays of vectors: unchanged.
// CHECK: llvm.mlir.global private constant @scalar(7 : i64) {addr_space = 0 : i32} : i64
llvm.mlir.global private constant @scalar(7 : i64) {addr_space = 0 : i32} : i64
// CHECK: llvm.mlir.global private constant @vectors(dense<1.000000e+00> : tensor<2x4xf32>) {addr_space = 0 : i32} : !llvm.array<2 x vector<4xf32>>
llvm.mlir.global private constant @vectors(dense<1.0> : tensor<2x4xf32>) {addr_space = 0 : i32} : !llvm.array<2 x vector<4xf32>>

// CHECK-LABEL: llvm.func @second
// CHECK: llvm.mlir.addressof @rows : !llvm.ptr
// CHECK: llvm.getelementptr %{{.*}}[0, 0, 1, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<1 x array<3 x array<2 x f32>>>
llvm.func @second() -> f32 {
  %0 = llvm.mlir.addressof @rows : !llvm.ptr
  %1 = llvm.getelementptr %0[0, 0, 1, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<1 x array<3 x array<2 x f32>>>
  %2 = llvm.load %1 : !llvm.ptr -> f32
  llvm.return %2 : f32
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x0400000001000000020000000300000004000000"
    }
  }
#-}
