// RUN: kiln-opt %s --split-input-file --kiln-merge-kernels | FileCheck %s
// A batch's per-image copies of a rows function (one ONNX node, the same
// ops but for an image's offsets) become one. Offsets a step apart from
// copy to copy (constants and a view's getelementptr) are computed from x,
// the copy's number, which each call passes; others are read from x and y,
// each distinct column of values once (an i32 one truncated). A copy of
// another node, one that differs in more than constants, and one whose x
// and y are in use stay as they are.

// CHECK-LABEL: llvm.func @f_rows0(
// CHECK-SAME: %[[X:arg8]]: i64, %[[Y:arg9]]: i64
// CHECK-NEXT: %[[N:.*]] = llvm.trunc %[[X]] : i64 to i32
// CHECK-NEXT: %[[A:.*]] = llvm.mul %arg10, %[[X]]
// CHECK-NEXT: %[[I:.*]] = llvm.add %[[A]], %[[Y]]
// CHECK-NEXT: %[[P:.*]] = llvm.getelementptr %arg0[%[[I]]]
// CHECK-NEXT: llvm.store %[[N]], %[[P]]
// CHECK-NOT: llvm.func @f_rows1(
// CHECK-NOT: llvm.func @f_rows2(
// CHECK-LABEL: llvm.func @f_rows3(
// CHECK: llvm.mlir.constant(300 : index)
// CHECK-LABEL: llvm.func @f_rows4(
// CHECK: llvm.sub
// CHECK-LABEL: llvm.func @f_rows5(
// CHECK: llvm.add %{{.*}}, %arg8
// CHECK-LABEL: llvm.func @f_img0(
// CHECK-DAG: %[[B0:.*]] = llvm.mlir.constant(1000 : i64)
// CHECK-DAG: %[[BS:.*]] = llvm.mlir.constant(1000 : i64)
// CHECK: %[[BT:.*]] = llvm.mul %arg8, %[[BS]]
// CHECK: %[[BASE:.*]] = llvm.add %[[B0]], %[[BT]]
// CHECK-DAG: %[[O0:.*]] = llvm.mlir.constant(3 : i64)
// CHECK-DAG: %[[OS:.*]] = llvm.mlir.constant(2 : i64)
// CHECK: %[[OT:.*]] = llvm.mul %arg8, %[[OS]]
// CHECK: %[[OFF:.*]] = llvm.add %[[O0]], %[[OT]]
// CHECK-DAG: %[[G0:.*]] = llvm.mlir.constant(40 : i64)
// CHECK-DAG: %[[GS:.*]] = llvm.mlir.constant(40 : i64)
// CHECK: %[[GT:.*]] = llvm.mul %arg8, %[[GS]]
// CHECK: %[[G:.*]] = llvm.add %[[G0]], %[[GT]]
// CHECK: %[[M:.*]] = llvm.mul %arg10, %[[BASE]]
// CHECK: %[[J:.*]] = llvm.add %[[M]], %[[OFF]]
// CHECK: %[[R:.*]] = llvm.getelementptr %arg1[%[[G]]]
// CHECK: llvm.getelementptr %[[R]][%[[J]]]
// CHECK-NOT: llvm.func @f_img1(
// CHECK-NOT: llvm.func @f_img2(
// CHECK-LABEL: llvm.func @f(
// CHECK: %[[R0:.*]] = llvm.mlir.addressof @f_rows0
// CHECK-DAG: %[[A100:.*]] = llvm.mlir.constant(100 : i64) : i64
// CHECK-DAG: %[[A7:.*]] = llvm.mlir.constant(7 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[R0]], {{.*}}, %[[A100]], %[[A7]], %{{.*}})
// CHECK: %[[R1:.*]] = llvm.mlir.addressof @f_rows0
// CHECK-DAG: %[[B200:.*]] = llvm.mlir.constant(200 : i64) : i64
// CHECK-DAG: %[[B8:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[R1]], {{.*}}, %[[B200]], %[[B8]], %{{.*}})
// CHECK: %[[R2:.*]] = llvm.mlir.addressof @f_rows0
// CHECK-DAG: %[[C250:.*]] = llvm.mlir.constant(250 : i64) : i64
// CHECK-DAG: %[[C7:.*]] = llvm.mlir.constant(7 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[R2]], {{.*}}, %[[C250]], %[[C7]], %{{.*}})
// CHECK: llvm.mlir.addressof @f_rows3
// CHECK: llvm.mlir.addressof @f_rows4
// CHECK: llvm.mlir.addressof @f_rows5
// CHECK: %[[I0:.*]] = llvm.mlir.addressof @f_img0
// CHECK: %[[T0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[I0]], {{.*}}, %[[T0]], %{{.*}}, %{{.*}})
// CHECK: %[[I1:.*]] = llvm.mlir.addressof @f_img0
// CHECK: %[[T1:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[I1]], {{.*}}, %[[T1]], %{{.*}}, %{{.*}})
// CHECK: %[[I2:.*]] = llvm.mlir.addressof @f_img0
// CHECK: %[[T2:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK: llvm.call @kiln_parallel_rows(%[[I2]], {{.*}}, %[[T2]], %{{.*}}, %{{.*}})

llvm.func @kiln_parallel_rows(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64)

// Images 0, 1 and 2 of node 'conv': a base offset, an offset past it and
// an i32 constant differ, not a step apart (the i32 one as the base).
llvm.func @f_rows0(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(100 : index) : i64
  %off = llvm.mlir.constant(7 : index) : i64
  %n = llvm.mlir.constant(100 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
llvm.func @f_rows1(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(200 : index) : i64
  %off = llvm.mlir.constant(8 : index) : i64
  %n = llvm.mlir.constant(200 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
llvm.func @f_rows2(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(250 : index) : i64
  %off = llvm.mlir.constant(7 : index) : i64
  %n = llvm.mlir.constant(250 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
// Another node's: stays.
llvm.func @f_rows3(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv2' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(300 : index) : i64
  %off = llvm.mlir.constant(7 : index) : i64
  %n = llvm.mlir.constant(300 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
// Node 'conv' but a sub for the add: stays.
llvm.func @f_rows4(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(400 : index) : i64
  %off = llvm.mlir.constant(7 : index) : i64
  %n = llvm.mlir.constant(400 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.sub %a, %off : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
// Node 'conv', x in use: stays.
llvm.func @f_rows5(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(500 : index) : i64
  %n = llvm.mlir.constant(500 : i32) : i32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %x : i64
  %p = llvm.getelementptr %b0[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %n, %p : i32, !llvm.ptr
  llvm.return
}
// Images 0, 1 and 2 of node 'conv3': offsets a step apart, a view's too.
llvm.func @f_img0(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv3' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(1000 : index) : i64
  %off = llvm.mlir.constant(3 : index) : i64
  %one = llvm.mlir.constant(1.0 : f32) : f32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %r = llvm.getelementptr %b1[40] : (!llvm.ptr) -> !llvm.ptr, f32
  %p = llvm.getelementptr %r[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %one, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @f_img1(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv3' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(2000 : index) : i64
  %off = llvm.mlir.constant(5 : index) : i64
  %one = llvm.mlir.constant(1.0 : f32) : f32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %r = llvm.getelementptr %b1[80] : (!llvm.ptr) -> !llvm.ptr, f32
  %p = llvm.getelementptr %r[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %one, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @f_img2(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i64, %y: i64, %lo: i64, %hi: i64) attributes {kiln.nodes = "node 'conv3' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %base = llvm.mlir.constant(3000 : index) : i64
  %off = llvm.mlir.constant(7 : index) : i64
  %one = llvm.mlir.constant(1.0 : f32) : f32
  %a = llvm.mul %lo, %base : i64
  %i = llvm.add %a, %off : i64
  %r = llvm.getelementptr %b1[120] : (!llvm.ptr) -> !llvm.ptr, f32
  %p = llvm.getelementptr %r[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %one, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @f(%buf: !llvm.ptr, %n: i64) {
  %zero = llvm.mlir.constant(0 : i64) : i64
  %r0 = llvm.mlir.addressof @f_rows0 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r0, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %r1 = llvm.mlir.addressof @f_rows1 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r1, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %r2 = llvm.mlir.addressof @f_rows2 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r2, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %r3 = llvm.mlir.addressof @f_rows3 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r3, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %r4 = llvm.mlir.addressof @f_rows4 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r4, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %r5 = llvm.mlir.addressof @f_rows5 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%r5, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %n, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %i0 = llvm.mlir.addressof @f_img0 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%i0, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %i1 = llvm.mlir.addressof @f_img1 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%i1, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  %i2 = llvm.mlir.addressof @f_img2 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%i2, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  llvm.return
}

// -----

// A 32-bit target's rows functions: x and the calls' constants are i32; a
// wider constant is sign-extended from it.
// CHECK-LABEL: llvm.func @g_img0(
// CHECK-SAME: %[[T:arg8]]: i32
// CHECK-DAG: %[[F:.*]] = llvm.mlir.constant(-5000 : i32) : i32
// CHECK-DAG: %[[S:.*]] = llvm.mlir.constant(-1000 : i32) : i32
// CHECK: %[[M:.*]] = llvm.mul %[[T]], %[[S]] : i32
// CHECK: %[[V:.*]] = llvm.add %[[F]], %[[M]] : i32
// CHECK: %[[W:.*]] = llvm.sext %[[V]] : i32 to i64
// CHECK: llvm.store %[[W]]
// CHECK-NOT: llvm.func @g_img1(
// CHECK-LABEL: llvm.func @g(
// CHECK: %[[G0:.*]] = llvm.mlir.addressof @g_img0
// CHECK-NEXT: %[[T0:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @kiln_parallel_rows(%[[G0]], {{.*}}, %[[T0]], %{{.*}}, %{{.*}})
// CHECK: %[[G1:.*]] = llvm.mlir.addressof @g_img0
// CHECK-NEXT: %[[T1:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: llvm.call @kiln_parallel_rows(%[[G1]], {{.*}}, %[[T1]], %{{.*}}, %{{.*}})

llvm.func @kiln_parallel_rows(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32, i32)
llvm.func @g_img0(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i32, %y: i32, %lo: i32, %hi: i32) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %v = llvm.mlir.constant(-5000 : i64) : i64
  llvm.store %v, %b0 : i64, !llvm.ptr
  llvm.return
}
llvm.func @g_img1(%b0: !llvm.ptr, %b1: !llvm.ptr, %b2: !llvm.ptr, %b3: !llvm.ptr, %b4: !llvm.ptr, %b5: !llvm.ptr, %b6: !llvm.ptr, %b7: !llvm.ptr, %x: i32, %y: i32, %lo: i32, %hi: i32) attributes {kiln.nodes = "node 'conv' (Conv)", passthrough = ["noinline"], sym_visibility = "private"} {
  %v = llvm.mlir.constant(-6000 : i64) : i64
  llvm.store %v, %b0 : i64, !llvm.ptr
  llvm.return
}
llvm.func @g(%buf: !llvm.ptr, %n: i32) {
  %zero = llvm.mlir.constant(0 : i32) : i32
  %i0 = llvm.mlir.addressof @g_img0 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%i0, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32, i32) -> ()
  %i1 = llvm.mlir.addressof @g_img1 : !llvm.ptr
  llvm.call @kiln_parallel_rows(%i1, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %buf, %zero, %zero, %n) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32, i32) -> ()
  llvm.return
}
