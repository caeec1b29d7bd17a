// RUN: kiln-opt %s --kiln-merge-runtime-declarations | FileCheck %s
// Per-signature declarations of one runtime function become one symbol.

// CHECK-NOT: llvm.func @f_gemm0_dispatch
// CHECK-NOT: llvm.func @f_gemm1_dispatch
// CHECK: llvm.func @kiln_parallel_rows(!llvm.ptr, !llvm.ptr, i64)
// CHECK-NOT: attributes
// CHECK-LABEL: llvm.func @f
// CHECK: llvm.call @kiln_parallel_rows(%arg0, %arg0, %arg1)
// CHECK: llvm.call @kiln_parallel_rows(%arg0, %arg0, %arg1)
// CHECK: llvm.call @other(%arg1)
llvm.func @f_gemm0_dispatch(!llvm.ptr, !llvm.ptr, i64) attributes {kiln.runtime = "kiln_parallel_rows"}
llvm.func @f_gemm1_dispatch(!llvm.ptr, !llvm.ptr, i64) attributes {kiln.runtime = "kiln_parallel_rows"}
llvm.func @other(i64)
llvm.func @f(%p: !llvm.ptr, %n: i64) {
  llvm.call @f_gemm0_dispatch(%p, %p, %n) : (!llvm.ptr, !llvm.ptr, i64) -> ()
  llvm.call @f_gemm1_dispatch(%p, %p, %n) : (!llvm.ptr, !llvm.ptr, i64) -> ()
  llvm.call @other(%n) : (i64) -> ()
  llvm.return
}

