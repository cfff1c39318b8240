// The tokenizers' Unicode class table is filled a page at a time on first use, possibly by several
// threads at once: every code point must read as the flags computed directly, whichever thread
// filled its page.
import Foundation
import XCTest
@testable import Runtime

final class UnicodeTablesTests: XCTestCase {
    func testLazyPagesEqualTheDirectFlagsFromManyThreads() {
        let count = 0x110000
        var seen = [UInt8](repeating: 0, count: count)
        seen.withUnsafeMutableBufferPointer { out in
            // Two threads walk interleaved strides, so pages are first touched from both.
            DispatchQueue.concurrentPerform(iterations: 4) { t in
                var c = t
                while c < count { out[c] = UChar.flags(UInt32(c)); c += 4 }
            }
        }
        var wrong = 0
        for c in 0..<count where seen[c] != UChar.computeFlags(c) { wrong += 1 }
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(UChar.flags(0x110000), UChar.other)
        XCTAssertTrue(UChar.isLetter(0x4E2D) && UChar.isSpace(0x3000) && UChar.isNumber(0x0663))
    }
}
