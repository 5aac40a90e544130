import XCTest
import QuantaKernels
@testable import QuantaRuntime
