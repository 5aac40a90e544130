// Host-side code (calibration, accuracy checks): the Embedded Swift device builds leave
// the float reference kernels out (docs/DEPLOY.md), the int8 runtime never calls them.
#if !hasFeature(Embedded)
/// Float32 reference kernels: plain NHWC loops, written to be obviously correct rather
/// than fast. They are the accuracy ground truth for the int8 kernels (not a bit
/// reference: float results depend on summation order).
///
/// Every kernel takes raw pointers and the parameter structs of `Core/`, allocates
/// nothing and writes only its output. Accumulation is in `Float`, in the order the
/// loops state (bias first, then kernel rows, kernel columns, input channels).
/// Preconditions on shapes are checked with `precondition` once per call.
public enum FloatReference {}
#endif
