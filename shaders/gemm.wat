;; C (+)= A * B^T on WebAssembly SIMD (f32x4): A [m x k], B [n x k], C [m x n], row-major float32 at byte
;; offsets in this module's memory. The reference is src/core/gemm.ts (gemmNTReference); src/wasm/wasmGemm.ts
;; copies the operands in and the result out. Every inner loop walks two contiguous rows, four floats at a
;; time; a 4 x 2 tile of C keeps eight vector sums in registers (six loads per eight multiply-adds), and B is
;; taken 32 rows at a time so its block stays in cache while A streams past. Sums are float32 (lanes added
;; at the end, then the k mod 4 tail), so results differ from the reference's float64 sums in the last bits.
(module
  (memory (export "memory") 1)

  ;; Sum of the four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Scalar dot product of rows at byte addresses $x and $y over float indices [$from, $k).
  (func $tail (param $x i32) (param $y i32) (param $from i32) (param $k i32) (result f32)
    (local $s f32) (local $p i32)
    (local.set $p (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $k)))
        (local.set $s
          (f32.add (local.get $s)
            (f32.mul
              (f32.load (i32.add (local.get $x) (i32.shl (local.get $p) (i32.const 2))))
              (f32.load (i32.add (local.get $y) (i32.shl (local.get $p) (i32.const 2)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $s))

  ;; Dot product of two rows of $k floats (vector body, scalar tail).
  (func $dot (param $x i32) (param $y i32) (param $k i32) (result f32)
    (local $acc v128) (local $p i32) (local $k4 i32) (local $off i32)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $k4)))
        (local.set $off (i32.shl (local.get $p) (i32.const 2)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul
              (v128.load (i32.add (local.get $x) (local.get $off)))
              (v128.load (i32.add (local.get $y) (local.get $off))))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    (f32.add (call $hsum (local.get $acc)) (call $tail (local.get $x) (local.get $y) (local.get $k4) (local.get $k))))

  ;; C[row $i, column $j] += $s, C at byte address $c with $n columns.
  (func $add (param $c i32) (param $n i32) (param $i i32) (param $j i32) (param $s f32)
    (local $at i32)
    (local.set $at (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
    (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (local.get $s))))

  (func (export "gemmNT") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32) (param $accumulate i32)
    (local $jb i32) (local $je i32) (local $i i32) (local $j i32) (local $p i32) (local $k4 i32) (local $off i32)
    (local $rowBytes i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b0 i32) (local $b1 i32)
    (local $x v128) (local $y0 v128) (local $y1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $r i32)
    (if (i32.eqz (local.get $accumulate))
      (then (memory.fill (local.get $c) (i32.const 0) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2)))))
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $jb) (local.get $n)))
        (local.set $je (select (local.get $n) (i32.add (local.get $jb) (i32.const 32)) (i32.lt_u (local.get $n) (i32.add (local.get $jb) (i32.const 32)))))
        (local.set $i (i32.const 0))
        ;; Four rows of A at a time.
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
            (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $a1 (i32.add (local.get $a0) (local.get $rowBytes)))
            (local.set $a2 (i32.add (local.get $a1) (local.get $rowBytes)))
            (local.set $a3 (i32.add (local.get $a2) (local.get $rowBytes)))
            (local.set $j (local.get $jb))
            ;; Two rows of B at a time.
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $je)))
                (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $rowBytes))))
                (local.set $b1 (i32.add (local.get $b0) (local.get $rowBytes)))
                (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
                (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
                (local.set $s20 (v128.const i32x4 0 0 0 0)) (local.set $s21 (v128.const i32x4 0 0 0 0))
                (local.set $s30 (v128.const i32x4 0 0 0 0)) (local.set $s31 (v128.const i32x4 0 0 0 0))
                (local.set $p (i32.const 0))
                (block $innerDone
                  (loop $inner
                    (br_if $innerDone (i32.ge_u (local.get $p) (local.get $k4)))
                    (local.set $off (i32.shl (local.get $p) (i32.const 2)))
                    (local.set $y0 (v128.load (i32.add (local.get $b0) (local.get $off))))
                    (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $off))))
                    (local.set $x (v128.load (i32.add (local.get $a0) (local.get $off))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $y0))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $y1))))
                    (local.set $x (v128.load (i32.add (local.get $a1) (local.get $off))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $y0))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $y1))))
                    (local.set $x (v128.load (i32.add (local.get $a2) (local.get $off))))
                    (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $y0))))
                    (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $y1))))
                    (local.set $x (v128.load (i32.add (local.get $a3) (local.get $off))))
                    (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $y0))))
                    (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $y1))))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $inner)))
                (call $add (local.get $c) (local.get $n) (local.get $i) (local.get $j)
                  (f32.add (call $hsum (local.get $s00)) (call $tail (local.get $a0) (local.get $b0) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (local.get $i) (i32.add (local.get $j) (i32.const 1))
                  (f32.add (call $hsum (local.get $s01)) (call $tail (local.get $a0) (local.get $b1) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 1)) (local.get $j)
                  (f32.add (call $hsum (local.get $s10)) (call $tail (local.get $a1) (local.get $b0) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 1)) (i32.add (local.get $j) (i32.const 1))
                  (f32.add (call $hsum (local.get $s11)) (call $tail (local.get $a1) (local.get $b1) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 2)) (local.get $j)
                  (f32.add (call $hsum (local.get $s20)) (call $tail (local.get $a2) (local.get $b0) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 2)) (i32.add (local.get $j) (i32.const 1))
                  (f32.add (call $hsum (local.get $s21)) (call $tail (local.get $a2) (local.get $b1) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 3)) (local.get $j)
                  (f32.add (call $hsum (local.get $s30)) (call $tail (local.get $a3) (local.get $b0) (local.get $k4) (local.get $k))))
                (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (i32.const 3)) (i32.add (local.get $j) (i32.const 1))
                  (f32.add (call $hsum (local.get $s31)) (call $tail (local.get $a3) (local.get $b1) (local.get $k4) (local.get $k))))
                (local.set $j (i32.add (local.get $j) (i32.const 2)))
                (br $cols)))
            ;; The block's last row of B when it has an odd count.
            (if (i32.lt_u (local.get $j) (local.get $je))
              (then
                (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $rowBytes))))
                (local.set $r (i32.const 0))
                (block $oddDone
                  (loop $odd
                    (br_if $oddDone (i32.ge_u (local.get $r) (i32.const 4)))
                    (call $add (local.get $c) (local.get $n) (i32.add (local.get $i) (local.get $r)) (local.get $j)
                      (call $dot (i32.add (local.get $a0) (i32.mul (local.get $r) (local.get $rowBytes))) (local.get $b0) (local.get $k)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $odd)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rows)))
        ;; The last m mod 4 rows of A, one dot product per entry.
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $j (local.get $jb))
            (block $restColsDone
              (loop $restCols
                (br_if $restColsDone (i32.ge_u (local.get $j) (local.get $je)))
                (call $add (local.get $c) (local.get $n) (local.get $i) (local.get $j)
                  (call $dot (local.get $a0) (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $rowBytes))) (local.get $k)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $restCols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rest)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 32)))
        (br $blocks))))

  ;; C^T += B^T A (f32x4): A [m x k], B [m x l], C^T [l x k], row-major float32 at byte offsets, k a multiple
  ;; of 8 and l of 4 (src/wasm/residentMatrixBackend.ts pads rows with zeros). The reference is
  ;; multiplyTransposed in src/core/matmul.ts. A 4 x 8 tile of C^T (four columns of B times eight of A) keeps
  ;; eight vector sums in registers over `chunk` rows of A at a time (16 measured fastest), so each chunk of A
  ;; is read from cache once per four columns of B, and from memory once.
  (func (export "gemmTN") (param $a i32) (param $b i32) (param $ct i32) (param $m i32) (param $k i32) (param $l i32) (param $chunk i32)
    (local $i0 i32) (local $i1 i32) (local $i i32) (local $c i32) (local $j i32)
    (local $aRowBytes i32) (local $bRowBytes i32) (local $ctRowBytes i32)
    (local $rowA i32) (local $rowB i32) (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $x0 v128) (local $x1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $aRowBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $bRowBytes (i32.shl (local.get $l) (i32.const 2)))
    (local.set $ctRowBytes (local.get $aRowBytes))
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $i0) (local.get $m)))
        (local.set $i1 (select (local.get $m) (i32.add (local.get $i0) (local.get $chunk)) (i32.lt_u (local.get $m) (i32.add (local.get $i0) (local.get $chunk)))))
        (local.set $j (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $j) (local.get $k)))
            (local.set $c (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_u (local.get $c) (local.get $l)))
                (local.set $t0 (i32.add (local.get $ct) (i32.add (i32.mul (local.get $c) (local.get $ctRowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $t1 (i32.add (local.get $t0) (local.get $ctRowBytes)))
                (local.set $t2 (i32.add (local.get $t1) (local.get $ctRowBytes)))
                (local.set $t3 (i32.add (local.get $t2) (local.get $ctRowBytes)))
                (local.set $c00 (v128.load (local.get $t0))) (local.set $c01 (v128.load offset=16 (local.get $t0)))
                (local.set $c10 (v128.load (local.get $t1))) (local.set $c11 (v128.load offset=16 (local.get $t1)))
                (local.set $c20 (v128.load (local.get $t2))) (local.set $c21 (v128.load offset=16 (local.get $t2)))
                (local.set $c30 (v128.load (local.get $t3))) (local.set $c31 (v128.load offset=16 (local.get $t3)))
                (local.set $rowA (i32.add (local.get $a) (i32.add (i32.mul (local.get $i0) (local.get $aRowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $rowB (i32.add (local.get $b) (i32.add (i32.mul (local.get $i0) (local.get $bRowBytes)) (i32.shl (local.get $c) (i32.const 2)))))
                (local.set $i (local.get $i0))
                (block $rowsDone
                  (loop $rows
                    (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
                    (local.set $x0 (v128.load (local.get $rowA)))
                    (local.set $x1 (v128.load offset=16 (local.get $rowA)))
                    (local.set $s (v128.load32_splat (local.get $rowB)))
                    (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $x0))))
                    (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $x1))))
                    (local.set $s (v128.load32_splat offset=4 (local.get $rowB)))
                    (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $x0))))
                    (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $x1))))
                    (local.set $s (v128.load32_splat offset=8 (local.get $rowB)))
                    (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $x0))))
                    (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $x1))))
                    (local.set $s (v128.load32_splat offset=12 (local.get $rowB)))
                    (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $x0))))
                    (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $x1))))
                    (local.set $rowA (i32.add (local.get $rowA) (local.get $aRowBytes)))
                    (local.set $rowB (i32.add (local.get $rowB) (local.get $bRowBytes)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $rows)))
                (v128.store (local.get $t0) (local.get $c00)) (v128.store offset=16 (local.get $t0) (local.get $c01))
                (v128.store (local.get $t1) (local.get $c10)) (v128.store offset=16 (local.get $t1) (local.get $c11))
                (v128.store (local.get $t2) (local.get $c20)) (v128.store offset=16 (local.get $t2) (local.get $c21))
                (v128.store (local.get $t3) (local.get $c30)) (v128.store offset=16 (local.get $t3) (local.get $c31))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $cols)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $blocks)))
        (local.set $i0 (local.get $i1))
        (br $chunks))))

  ;; out[i] = sum of squares of row i of A [m x k] (k a multiple of 4; float32 lanes, summed at the end).
  ;; The reference is rowSumSquares in src/core/pairwiseCosine.ts.
  (func (export "rowSumSquares") (param $a i32) (param $out i32) (param $m i32) (param $k i32)
    (local $i i32) (local $p i32) (local $row i32) (local $acc v128) (local $x v128) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $row (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $rowBytes)))
            (local.set $x (v128.load (i32.add (local.get $row) (local.get $p))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $next)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $hsum (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
