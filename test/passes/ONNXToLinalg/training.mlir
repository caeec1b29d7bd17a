// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg | FileCheck %s
// The training-preview optimizers: R and T are read with tensor.extract, the
// factors that depend only on them are computed once in f64, and each
// optimized tensor becomes one linalg.generic yielding the new tensor and
// its new accumulators, in the tensor's own float type.

// Adagrad: r = R / (1 + T * decay_factor); G' = norm * X + G;
// H_new = H + G' * G'; X_new = X - r * G' / (sqrt(H_new) + epsilon).
// CHECK-LABEL: func @adagrad
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[NORM:.*]] = arith.constant 1.000000e-03 : f32
// CHECK-DAG: %[[DECAY:.*]] = arith.constant 0.10000000149011612 : f64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK: %[[R:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: %[[RW:.*]] = arith.extf %[[R]] : f32 to f64
// CHECK: %[[T:.*]] = tensor.extract %arg1[] : tensor<i64>
// CHECK: %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f64
// CHECK: %[[TD:.*]] = arith.mulf %[[TF]], %[[DECAY]] : f64
// CHECK: %[[DEN:.*]] = arith.addf %[[TD]], %[[ONE]] : f64
// CHECK: %[[RD:.*]] = arith.divf %[[RW]], %[[DEN]] : f64
// CHECK: %[[RN:.*]] = arith.truncf %[[RD]] : f64 to f32
// CHECK: %[[OUT:.*]]:2 = linalg.generic
// CHECK-SAME: ins(%arg2, %arg3, %arg4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[G:.*]]: f32, %[[H:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[NX:.*]] = arith.mulf %[[X]], %[[NORM]] : f32
// CHECK-NEXT:   %[[GR:.*]] = arith.addf %[[NX]], %[[G]] : f32
// CHECK-NEXT:   %[[GG:.*]] = arith.mulf %[[GR]], %[[GR]] : f32
// CHECK-NEXT:   %[[HN:.*]] = arith.addf %[[H]], %[[GG]] : f32
// CHECK-NEXT:   %[[SQ:.*]] = math.sqrt %[[HN]] : f32
// CHECK-NEXT:   %[[HS:.*]] = arith.addf %[[SQ]], %[[EPS]] : f32
// CHECK-NEXT:   %[[RG:.*]] = arith.mulf %[[RN]], %[[GR]] : f32
// CHECK-NEXT:   %[[STEP:.*]] = arith.divf %[[RG]], %[[HS]] : f32
// CHECK-NEXT:   %[[XN:.*]] = arith.subf %[[X]], %[[STEP]] : f32
// CHECK-NEXT:   linalg.yield %[[XN]], %[[HN]] : f32, f32
// CHECK: return %[[OUT]]#0, %[[OUT]]#1
func.func @adagrad(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<2x3xf32>, %g: tensor<2x3xf32>, %h: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %xn, %hn = "onnx.Adagrad"(%r, %t, %x, %g, %h) <{decay_factor = 1.0e-01 : f32, epsilon = 1.0e-05 : f32, norm_coefficient = 1.0e-03 : f32}> : (tensor<f32>, tensor<i64>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  return %xn, %hn : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Adam over two tensors (f32 and f64): the bias-corrected rate
// R * sqrt(1 - beta**T) / (1 - alpha**T) when T > 0, else R; one generic
// per tensor yielding X_final, V_new, H_new; results are X..., V..., H....
// CHECK-LABEL: func @adam
// alpha = 0.9 and 1 - norm_coefficient_post = 0.9 share one f32 constant.
// CHECK-DAG: %[[POST:.*]] = arith.constant 0.899999976 : f32
// CHECK-DAG: %[[A1M:.*]] = arith.constant 0.100000024 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 0.89999997615814208 : f64
// CHECK-DAG: %[[BETA:.*]] = arith.constant 0.99900001287460327 : f64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: %[[R:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: %[[RW:.*]] = arith.extf %[[R]] : f32 to f64
// CHECK: %[[T:.*]] = tensor.extract %arg1[] : tensor<i64>
// CHECK: %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f64
// CHECK: %[[BT:.*]] = math.powf %[[BETA]], %[[TF]] : f64
// CHECK: %[[AT:.*]] = math.powf %[[ALPHA]], %[[TF]] : f64
// CHECK: %[[B1:.*]] = arith.subf %[[ONE]], %[[BT]] : f64
// CHECK: %[[SQ:.*]] = math.sqrt %[[B1]] : f64
// CHECK: %[[NUM:.*]] = arith.mulf %[[RW]], %[[SQ]] : f64
// CHECK: %[[A1:.*]] = arith.subf %[[ONE]], %[[AT]] : f64
// CHECK: %[[CORR:.*]] = arith.divf %[[NUM]], %[[A1]] : f64
// CHECK: %[[POS:.*]] = arith.cmpi sgt, %[[T]], %[[ZERO]] : i64
// CHECK: %[[RA:.*]] = arith.select %[[POS]], %[[CORR]], %[[RW]] : f64
// CHECK: %[[RA32:.*]] = arith.truncf %[[RA]] : f64 to f32
// CHECK: %[[O1:.*]]:3 = linalg.generic
// CHECK-SAME: ins(%arg2, %arg4, %arg6, %arg8 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[G:.*]]: f32, %[[V:.*]]: f32, %[[H:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[NX:.*]] = arith.mulf %[[X]], %{{.*}} : f32
// CHECK-NEXT:   %[[GR:.*]] = arith.addf %[[NX]], %[[G]] : f32
// CHECK-NEXT:   %[[AV:.*]] = arith.mulf %[[V]], %[[POST]] : f32
// CHECK-NEXT:   %[[AG:.*]] = arith.mulf %[[GR]], %[[A1M]] : f32
// CHECK-NEXT:   %[[VN:.*]] = arith.addf %[[AV]], %[[AG]] : f32
// CHECK-NEXT:   %[[BH:.*]] = arith.mulf %[[H]], %{{.*}} : f32
// CHECK-NEXT:   %[[GG:.*]] = arith.mulf %[[GR]], %[[GR]] : f32
// CHECK-NEXT:   %[[BG:.*]] = arith.mulf %[[GG]], %{{.*}} : f32
// CHECK-NEXT:   %[[HN:.*]] = arith.addf %[[BH]], %[[BG]] : f32
// CHECK-NEXT:   %[[SQH:.*]] = math.sqrt %[[HN]] : f32
// CHECK-NEXT:   %[[HS:.*]] = arith.addf %[[SQH]], %{{.*}} : f32
// CHECK-NEXT:   %[[DIR:.*]] = arith.divf %[[VN]], %[[HS]] : f32
// CHECK-NEXT:   %[[STEP:.*]] = arith.mulf %[[RA32]], %[[DIR]] : f32
// CHECK-NEXT:   %[[XN:.*]] = arith.subf %[[X]], %[[STEP]] : f32
// CHECK-NEXT:   %[[XF:.*]] = arith.mulf %[[XN]], %[[POST]] : f32
// CHECK-NEXT:   linalg.yield %[[XF]], %[[VN]], %[[HN]] : f32, f32, f32
// CHECK: %[[O2:.*]]:3 = linalg.generic
// CHECK-SAME: ins(%arg3, %arg5, %arg7, %arg9 : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>)
// CHECK:   arith.mulf %[[RA]], %{{.*}} : f64
// CHECK:   linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64
// CHECK: return %[[O1]]#0, %[[O2]]#0, %[[O1]]#1, %[[O2]]#1, %[[O1]]#2, %[[O2]]#2
func.func @adam(%r: tensor<f32>, %t: tensor<i64>, %x1: tensor<2xf32>, %x2: tensor<3xf64>, %g1: tensor<2xf32>, %g2: tensor<3xf64>, %v1: tensor<2xf32>, %v2: tensor<3xf64>, %h1: tensor<2xf32>, %h2: tensor<3xf64>) -> (tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>) {
  %0:6 = "onnx.Adam"(%r, %t, %x1, %x2, %g1, %g2, %v1, %v2, %h1, %h2) <{norm_coefficient_post = 1.0e-01 : f32}> : (tensor<f32>, tensor<i64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>) -> (tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5 : tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>, tensor<2xf32>, tensor<3xf64>
}

// -----

// Momentum, standard: V_new = alpha * V + (T > 0 ? beta : 1) * G';
// X_new = X - R * V_new.
// CHECK-LABEL: func @momentum
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[BETA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 0.949999988 : f32
// CHECK: %[[R:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: %[[T:.*]] = tensor.extract %arg1[] : tensor<i64>
// CHECK: %[[POS:.*]] = arith.cmpi sgt, %[[T]], %{{.*}} : i64
// CHECK: %[[B:.*]] = arith.select %[[POS]], %[[BETA]], %[[ONE]] : f32
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[G:.*]]: f32, %[[V:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK:   %[[GR:.*]] = arith.addf %{{.*}}, %[[G]] : f32
// CHECK:   %[[AV:.*]] = arith.mulf %[[V]], %[[ALPHA]] : f32
// CHECK:   %[[BG:.*]] = arith.mulf %[[B]], %[[GR]] : f32
// CHECK:   %[[VN:.*]] = arith.addf %[[AV]], %[[BG]] : f32
// CHECK:   %[[STEP:.*]] = arith.mulf %[[R]], %[[VN]] : f32
// CHECK:   %[[XN:.*]] = arith.subf %[[X]], %[[STEP]] : f32
// CHECK:   linalg.yield %[[XN]], %[[VN]] : f32, f32
func.func @momentum(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %xn, %vn = "onnx.Momentum"(%r, %t, %x, %g, %v) <{alpha = 0.95 : f32, beta = 0.5 : f32, mode = "standard", norm_coefficient = 1.0e-02 : f32}> : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %xn, %vn : tensor<4xf32>, tensor<4xf32>
}

// -----

// Momentum, Nesterov: X_new = X - R * (G' + alpha * V_new).
// CHECK-LABEL: func @nesterov
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 0.949999988 : f32
// CHECK: %[[R:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[G:.*]]: f32, %[[V:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK:   %[[GR:.*]] = arith.addf %{{.*}}, %[[G]] : f32
// CHECK:   %[[VN:.*]] = arith.addf
// CHECK:   %[[AVN:.*]] = arith.mulf %[[VN]], %[[ALPHA]] : f32
// CHECK:   %[[DIR:.*]] = arith.addf %[[GR]], %[[AVN]] : f32
// CHECK:   %[[STEP:.*]] = arith.mulf %[[R]], %[[DIR]] : f32
// CHECK:   %[[XN:.*]] = arith.subf %[[X]], %[[STEP]] : f32
// CHECK:   linalg.yield %[[XN]], %[[VN]] : f32, f32
func.func @nesterov(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %xn, %vn = "onnx.Momentum"(%r, %t, %x, %g, %v) <{alpha = 0.95 : f32, beta = 0.5 : f32, mode = "nesterov", norm_coefficient = 1.0e-02 : f32}> : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %xn, %vn : tensor<4xf32>, tensor<4xf32>
}
