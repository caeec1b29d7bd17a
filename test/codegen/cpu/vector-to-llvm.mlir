// RUN: kiln-opt %s --split-input-file --kiln-vector-to-llvm | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-vector-to-llvm=index-bitwidth=32 | FileCheck %s --check-prefix=OPT
// Vector ops become LLVM ops with `index` as wide as the module's data
// layout says: 32 bits for a 32-bit core (upstream's convert-vector-to-llvm
// would make it 64 whatever the layout), 64 bits without a layout; or as
// wide as index-bitwidth says (what the CPU pipeline passes).

// CHECK-LABEL: func @load32
// CHECK: unrealized_conversion_cast %{{.*}} : index to i32
// CHECK: unrealized_conversion_cast %{{.*}} : memref<16xf32> to !llvm.struct<(ptr, ptr, i32, array<1 x i32>, array<1 x i32>)>
// CHECK: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i32) -> !llvm.ptr, f32
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<4xf32>
module attributes {dlti.dl_spec = #dlti.dl_spec<#dlti.dl_entry<index, 32 : i32>>} {
  func.func @load32(%m: memref<16xf32>, %i: index) -> vector<4xf32> {
    %v = vector.load %m[%i] : memref<16xf32>, vector<4xf32>
    return %v : vector<4xf32>
  }
}

// -----

// OPT-LABEL: func @load64
// OPT: unrealized_conversion_cast %{{.*}} : index to i32
// OPT: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i32) -> !llvm.ptr, f32
// CHECK-LABEL: func @load64
// CHECK: unrealized_conversion_cast %{{.*}} : index to i64
// CHECK: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
func.func @load64(%m: memref<16xf32>, %i: index) -> vector<4xf32> {
  %v = vector.load %m[%i] : memref<16xf32>, vector<4xf32>
  return %v : vector<4xf32>
}
