// RUN: kiln-opt %s --split-input-file --kiln-outline-kernels=max-loops=0 | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-outline-kernels | FileCheck %s --check-prefix=GROUP
// Each top-level loop nest or linalg op of the entry function moves into a
// noinline function of its own; constants, globals and views are cloned into
// it, other values are passed. By default consecutive ops share a kernel.

memref.global "private" constant @w : memref<4xf32> = dense<1.0>

// CHECK-LABEL: func.func @graph(
// CHECK-SAME: %[[IN:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>, %[[ARENA:.*]]: memref<64xi8>)
// CHECK-NOT: memref.view
// CHECK: call @graph_kernel0(%[[IN]], %[[ARENA]])
// CHECK-NEXT: call @graph_kernel1(%[[OUT]], %[[ARENA]])
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT: return %[[ZERO]]
// CHECK: func.func private @graph_kernel0(%[[I0:.*]]: memref<4xf32>, %[[A0:.*]]: memref<64xi8>)
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: %[[V0:.*]] = memref.view %[[A0]]
// CHECK: linalg.generic {{.*}} ins(%[[I0]] : memref<4xf32>) outs(%[[V0]] : memref<4xf32>)
// CHECK: return
// CHECK: func.func private @graph_kernel1(%[[O1:.*]]: memref<4xf32>, %[[A1:.*]]: memref<64xi8>)
// CHECK-SAME: passthrough = ["noinline"]
// CHECK-DAG: memref.get_global @w
// CHECK-DAG: memref.view %[[A1]]
// CHECK: scf.for
// CHECK: vector.transfer_write {{.*}}, %[[O1]]
// CHECK: return

// GROUP-LABEL: func.func @graph(
// GROUP: call @graph_kernel0(%{{.*}}, %{{.*}}, %{{.*}}) :
// GROUP-NOT: call
// GROUP: func.func private @graph_kernel0(
// GROUP: linalg.generic
// GROUP: scf.for
#id = affine_map<(d0) -> (d0)>
func.func @graph(%in: memref<4xf32>, %out: memref<4xf32>, %arena: memref<64xi8>) -> i32 attributes {kiln.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %f0 = arith.constant 0.0 : f32
  %w = memref.get_global @w : memref<4xf32>
  %tmp = memref.view %arena[%c0][] : memref<64xi8> to memref<4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%in : memref<4xf32>) outs(%tmp : memref<4xf32>) {
  ^bb0(%a: f32, %b: f32):
    %e = arith.mulf %a, %a : f32
    linalg.yield %e : f32
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %tmp[%i] : memref<4xf32>
    %y = memref.load %w[%i] : memref<4xf32>
    %s = arith.addf %x, %y : f32
    %v = vector.broadcast %s : f32 to vector<1xf32>
    vector.transfer_write %v, %out[%i] {in_bounds = [true]} : vector<1xf32>, memref<4xf32>
  }
  %status = arith.constant 0 : i32
  return %status : i32
}

// -----

// A scalar computed at run time is an argument; so is the run-time check
// flag, a rank-0 alloca, which the kernel copies to a local flag and back.
// An op using a memref of dynamic layout stays inline.
// CHECK-LABEL: func.func @checks(
// CHECK: %[[FLAG:.*]] = memref.alloca() : memref<i1>
// CHECK: %[[N:.*]] = memref.load
// CHECK: call @checks_kernel0(%{{.*}}, %[[FLAG]], %[[N]]) : (memref<8xf32>, memref<i1>, index) -> ()
// CHECK: %[[SUB:.*]] = memref.subview
// CHECK: linalg.fill {{.*}} outs(%[[SUB]]
// CHECK: func.func private @checks_kernel0(%{{.*}}: memref<8xf32>, %[[F0:.*]]: memref<i1>, %[[N0:.*]]: index)
// CHECK: %[[LOCAL:.*]] = memref.alloca() : memref<i1>
// CHECK: %[[IN:.*]] = memref.load %[[F0]][]
// CHECK: memref.store %[[IN]], %[[LOCAL]][]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N0]]
// CHECK: memref.store %{{.*}}, %[[LOCAL]][]
// CHECK: }
// CHECK: %[[RES:.*]] = memref.load %[[LOCAL]][]
// CHECK: memref.store %[[RES]], %[[F0]][]
// CHECK-NEXT: return
func.func @checks(%n: memref<1xindex>, %out: memref<8xf32>, %dyn: memref<8xf32, strided<[?]>>, %arena: memref<64xi8>) -> i32 attributes {kiln.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f0 = arith.constant 0.0 : f32
  %true = arith.constant true
  %flag = memref.alloca() : memref<i1>
  memref.store %true, %flag[] : memref<i1>
  %count = memref.load %n[%c0] : memref<1xindex>
  scf.for %i = %c0 to %count step %c1 {
    memref.store %f0, %out[%i] : memref<8xf32>
    %ok = arith.cmpi ult, %i, %c8 : index
    %old = memref.load %flag[] : memref<i1>
    %and = arith.andi %old, %ok : i1
    memref.store %and, %flag[] : memref<i1>
  }
  %sub = memref.subview %dyn[0] [4] [1] : memref<8xf32, strided<[?]>> to memref<4xf32, strided<[?]>>
  linalg.fill ins(%f0 : f32) outs(%sub : memref<4xf32, strided<[?]>>)
  %status = arith.constant 0 : i32
  return %status : i32
}

// -----

// Functions other than the entry are left alone.
// CHECK-LABEL: func.func @helper(
// CHECK: linalg.fill
// CHECK-NOT: call
func.func @helper(%out: memref<8xf32>) {
  %f0 = arith.constant 0.0 : f32
  linalg.fill ins(%f0 : f32) outs(%out : memref<8xf32>)
  return
}
