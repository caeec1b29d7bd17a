// RUN: kiln-opt %s -split-input-file --kiln-convert-onnx-to-linalg --canonicalize -verify-diagnostics | FileCheck %s
// TfIdfVectorizer: per n-gram length and distance, one generic over (row,
// start, pool entry) comparing shifted views of X with the pool's constant
// columns; the counts go to their output columns in an scf.for nest and the
// mode scales them by the weights.

// CHECK-LABEL: func @tfidf_batch
// CHECK-DAG: %[[W:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00]> : tensor<7xf32>
// CHECK-DAG: %[[BICOLS:.*]] = arith.constant dense<[4, 5, 6]> : tensor<3xi64>
// CHECK-DAG: %[[BI1:.*]] = arith.constant dense<[6, 8, 7]> : tensor<3xi64>
// CHECK-DAG: %[[BI0:.*]] = arith.constant dense<[5, 7, 6]> : tensor<3xi64>
// CHECK-DAG: %[[UNICOLS:.*]] = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK-DAG: %[[UNI:.*]] = arith.constant dense<[2, 3, 5, 4]> : tensor<4xi64>
// CHECK: %[[X64:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x6xi32>) outs(%{{.*}} : tensor<2x6xi64>)
// CHECK:   arith.extsi
// Unigrams, once.
// CHECK: %[[U:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X64]], %[[UNI]] : tensor<2x6xi64>, tensor<4xi64>) outs(%{{.*}} : tensor<2x4xi32>)
// CHECK:   arith.cmpi eq
// CHECK:   arith.extui
// CHECK:   arith.addi
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     tensor.extract %[[UNICOLS]]
// CHECK:     tensor.extract %[[U]]
// CHECK:     tensor.insert
// Bigrams at distance 1, then 2 (max_skip_count 1), accumulating.
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X64]][0, 0] [2, 5] [1, 1]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X64]][0, 1] [2, 5] [1, 1]
// CHECK: %[[D1:.*]] = linalg.generic {{.*}} ins(%[[S0]], %[[S1]], %[[BI0]], %[[BI1]] : {{.*}}) outs(%{{.*}} : tensor<2x3xi32>)
// CHECK:   arith.andi
// CHECK: %[[T0:.*]] = tensor.extract_slice %[[X64]][0, 0] [2, 4] [1, 1]
// CHECK: %[[T1:.*]] = tensor.extract_slice %[[X64]][0, 2] [2, 4] [1, 1]
// CHECK: %[[D2:.*]] = linalg.generic {{.*}} ins(%[[T0]], %[[T1]], %[[BI0]], %[[BI1]] : {{.*}}) outs(%[[D1]] : tensor<2x3xi32>)
// CHECK: %[[C:.*]] = scf.for
// CHECK:   scf.for
// CHECK:     tensor.extract %[[BICOLS]]
// CHECK:     tensor.extract %[[D2]]
// CHECK:     tensor.insert
// TFIDF: count * weight of the column.
// CHECK: linalg.generic {{.*}} ins(%[[C]], %[[W]] : tensor<2x7xi32>, tensor<7xf32>) outs(%{{.*}} : tensor<2x7xf32>)
// CHECK:   arith.sitofp
// CHECK:   arith.mulf
func.func @tfidf_batch(%x: tensor<2x6xi32>) -> tensor<2x7xf32> {
  %y = "onnx.TfIdfVectorizer"(%x) {max_gram_length = 2 : i64, min_gram_length = 1 : i64, max_skip_count = 1 : i64, mode = "TFIDF", ngram_counts = [0, 4], ngram_indexes = [0, 1, 2, 3, 4, 5, 6], pool_int64s = [2, 3, 5, 4, 5, 6, 7, 8, 6, 7], weights = [1.0 : f32, 2.0 : f32, 3.0 : f32, 4.0 : f32, 5.0 : f32, 6.0 : f32, 7.0 : f32]} : (tensor<2x6xi32>) -> tensor<2x7xf32>
  return %y : tensor<2x7xf32>
}

// -----

// A 1-d input is one row; IDF keeps the weight where the count is positive.
// Distances whose bigrams do not fit in the input (3 and more) are skipped.
// CHECK-LABEL: func @tfidf_idf_1d
// CHECK: tensor.expand_shape %{{.*}} : tensor<3xi64> into tensor<1x3xi64>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2xi32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [1, 2] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 1] [1, 2] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [1, 1] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 2] [1, 1] [1, 1]
// CHECK-NOT: tensor.extract_slice
// CHECK: arith.cmpi sgt
// CHECK: arith.select
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x3xf32> into tensor<3xf32>
func.func @tfidf_idf_1d(%x: tensor<3xi64>) -> tensor<3xf32> {
  %y = "onnx.TfIdfVectorizer"(%x) {max_gram_length = 2 : i64, min_gram_length = 1 : i64, max_skip_count = 5 : i64, mode = "IDF", ngram_counts = [0, 2], ngram_indexes = [2, 0, 1], pool_int64s = [7, 8, 7, 8], weights = [0.5 : f32, 2.0 : f32, 3.0 : f32]} : (tensor<3xi64>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

func.func @tfidf_no_pool(%x: tensor<3xi64>) -> tensor<1xf32> {
  // expected-error @+1 {{TfIdfVectorizer needs pool_int64s (string pools are not supported)}}
  %y = "onnx.TfIdfVectorizer"(%x) {max_gram_length = 1 : i64, min_gram_length = 1 : i64, max_skip_count = 0 : i64, mode = "TF", ngram_counts = [0], ngram_indexes = [0]} : (tensor<3xi64>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}
