"""Python foundations: the graded assignments (nbgrader source notebooks)."""

from nbbuild import Assignment, code, manual_answer, md, solution, tests


def _intro(title: str, text: str):
    return md(f"""
    # {title}

    {text}

    Fill in every cell that says `# YOUR CODE HERE` (delete the `raise NotImplementedError()`
    line), then run the test cell below it. A test that passes prints nothing; a failing test
    tells you what it expected. Some tests are hidden and only run when you submit, so test
    your own answer on a few more cases too. Stuck? Ask for a hint.
    """)


def assignments() -> list[Assignment]:
    return [
        Assignment("ps01-values-and-strings", "Values and strings", due_offset_days=7, cells=[
            _intro("Problem set 1: values and strings",
                   "Lessons 1 and 2. You will do arithmetic with variables and build strings."),
            md("""
            ## 1. Seconds on the clock (2 points)

            A film lasts 2 hours, 15 minutes and 30 seconds. Store its length **in seconds**,
            as an `int`, in a variable called `film_seconds`. Let Python do the arithmetic.
            """),
            solution("film-seconds", """
            ### BEGIN SOLUTION
            film_seconds = 2 * 60 * 60 + 15 * 60 + 30
            ### END SOLUTION
            """, [
                "One hour has 60 minutes and one minute has 60 seconds.",
                "Convert each part to seconds and add them up: hours * 3600 + minutes * 60 + seconds.",
                "film_seconds = 2 * 3600 + 15 * 60 + 30",
            ]),
            tests("film-seconds-tests", 2, """
            assert isinstance(film_seconds, int), f"film_seconds should be an int, got {type(film_seconds).__name__} (did you use / instead of //, or quotes?)"
            assert film_seconds > 2 * 3600, "2 hours alone are 7200 seconds; film_seconds should be more than that"
            """, """
            assert film_seconds == 8130, f"2h 15m 30s is 8130 seconds, you have {film_seconds}"
            """),
            md("""
            ## 2. Shout it (2 points)

            Given `word` below, make `shout`: the word in capital letters followed by
            three exclamation marks. For `"python"` that is `"PYTHON!!!"`. Build it from
            `word` with string methods and `+`, don't type it out.
            """),
            code("""
            word = "python"
            """),
            solution("shout", """
            ### BEGIN SOLUTION
            shout = word.upper() + "!!!"
            ### END SOLUTION
            """, [
                "Strings have a method that turns every letter into a capital.",
                "word.upper() gives 'PYTHON'; now join the exclamation marks with +.",
                'shout = word.upper() + "!!!"',
            ]),
            tests("shout-tests", 2, """
            assert isinstance(shout, str), f"shout should be a string, got {type(shout).__name__}"
            assert shout.endswith("!!!"), f"shout should end with three '!', got {shout!r}"
            assert shout[:-3].isupper(), f"the word part of shout should be in capitals, got {shout!r}"
            """, """
            assert shout == "PYTHON!!!", f"expected 'PYTHON!!!', got {shout!r}"
            """),
            md("""
            ## 3. Initials (3 points)

            `full_name` holds a first and a last name in lower case. Make `initials`: the
            first letter of each name in capitals, each followed by a dot. For
            `"grace hopper"` the answer is `"G.H."`.
            """),
            code("""
            full_name = "katherine johnson"
            """),
            solution("initials", """
            ### BEGIN SOLUTION
            first, last = full_name.split()
            initials = first[0].upper() + "." + last[0].upper() + "."
            ### END SOLUTION
            """, [
                "First split the name into its two words.",
                "full_name.split() gives a list of two words; the first letter of a word w is w[0].",
                'first, last = full_name.split() and then first[0].upper() + "." + last[0].upper() + "."',
            ]),
            tests("initials-tests", 3, """
            assert isinstance(initials, str), f"initials should be a string, got {type(initials).__name__}"
            assert len(initials) == 4, f"initials should be 4 characters like 'G.H.', got {initials!r}"
            assert initials.count(".") == 2, f"each initial should be followed by a dot, got {initials!r}"
            """, """
            assert initials == "K.J.", f"the initials of 'katherine johnson' are 'K.J.', got {initials!r}"
            """),
            md("""
            ## 4. Price label (3 points)

            Make `label`, a string like `"3 x coffee = €7.50"` for the values below: the
            quantity, the item, and the total price with **two decimals**. Use an f-string.
            """),
            code("""
            item = "coffee"
            quantity = 3
            unit_price = 2.5
            """),
            solution("label", """
            ### BEGIN SOLUTION
            label = f"{quantity} x {item} = €{quantity * unit_price:.2f}"
            ### END SOLUTION
            """, [
                "An f-string can hold any expression inside {}, including quantity * unit_price.",
                "Format a number with two decimals with :.2f, as in f'{x:.2f}'.",
                'label = f"{quantity} x {item} = €{quantity * unit_price:.2f}"',
            ]),
            tests("label-tests", 3, """
            assert isinstance(label, str), f"label should be a string, got {type(label).__name__}"
            assert label.startswith("3 x coffee"), f"label should start with '3 x coffee', got {label!r}"
            assert "7.5" in label, f"3 x 2.5 is 7.5, but it is not in {label!r}"
            """, """
            assert label == "3 x coffee = €7.50", f"expected '3 x coffee = €7.50' (two decimals), got {label!r}"
            """),
        ]),
        Assignment("ps02-lists-and-loops", "Lists and loops", due_offset_days=14, cells=[
            _intro("Problem set 2: lists and loops",
                   "Lesson 3. Work through a week of café receipts with loops and lists."),
            code("""
            # The amount of each receipt this week, in euros.
            receipts = [4.5, 12.0, 3.2, 18.7, 9.9, 25.0, 7.4, 11.3]
            """),
            md("""
            ## 1. Total with a loop (2 points)

            Compute `total`, the sum of all receipts, **with a `for` loop** (the accumulator
            pattern from lesson 3), not with `sum()`. Round it to 2 decimals at the end
            with `round(total, 2)`.
            """),
            solution("total", """
            ### BEGIN SOLUTION
            total = 0
            for amount in receipts:
                total += amount
            total = round(total, 2)
            ### END SOLUTION
            """, [
                "Start with total = 0 before the loop.",
                "Inside `for amount in receipts:` add amount to total.",
                "total = 0; for amount in receipts: total += amount; then total = round(total, 2)",
            ]),
            tests("total-tests", 2, """
            assert isinstance(total, float), f"total should be a number with decimals, got {type(total).__name__}"
            assert total > max(receipts), "the total should be bigger than the largest single receipt"
            """, """
            assert total == 92.0, f"the receipts add up to 92.0, you have {total}"
            """),
            md("""
            ## 2. Big receipts (2 points)

            Make a list `big` with the receipts of **more than 10 euros**, in their
            original order.
            """),
            solution("big", """
            ### BEGIN SOLUTION
            big = [amount for amount in receipts if amount > 10]
            ### END SOLUTION
            """, [
                "Start with an empty list and append to it inside a loop.",
                "Only append when `amount > 10`.",
                "big = [amount for amount in receipts if amount > 10]",
            ]),
            tests("big-tests", 2, """
            assert isinstance(big, list), f"big should be a list, got {type(big).__name__}"
            assert all(a > 10 for a in big), f"every receipt in big should be more than 10, got {big}"
            """, """
            assert big == [12.0, 18.7, 25.0, 11.3], f"expected [12.0, 18.7, 25.0, 11.3] in that order, got {big}"
            """),
            md("""
            ## 3. With tips (3 points)

            Make `with_tip`: a new list with every receipt increased by a 10% tip,
            rounded to 2 decimals. `receipts` itself must not change.
            """),
            solution("with-tip", """
            ### BEGIN SOLUTION
            with_tip = [round(amount * 1.10, 2) for amount in receipts]
            ### END SOLUTION
            """, [
                "Adding 10% is the same as multiplying by 1.10.",
                "Build a new list: one rounded value for every amount in receipts.",
                "with_tip = [round(amount * 1.10, 2) for amount in receipts]",
            ]),
            tests("with-tip-tests", 3, """
            assert len(with_tip) == len(receipts), f"with_tip should have one value per receipt ({len(receipts)}), it has {len(with_tip)}"
            assert receipts[0] == 4.5, "receipts was changed; build a new list instead"
            assert abs(with_tip[0] - 4.95) < 0.001, f"4.5 plus 10% is 4.95, got {with_tip[0]}"
            """, """
            expected = [4.95, 13.2, 3.52, 20.57, 10.89, 27.5, 8.14, 12.43]
            assert all(abs(a - b) < 0.006 for a, b in zip(with_tip, expected)), f"expected {expected}, got {with_tip}"
            """),
            md("""
            ## 4. The biggest jump (3 points)

            Find `biggest_jump`: the largest **increase** from one receipt to the next one
            in the list (a later receipt minus the one just before it). Round to 2
            decimals. Use `range(1, len(receipts))` to visit each neighbouring pair.
            """),
            solution("biggest-jump", """
            ### BEGIN SOLUTION
            biggest_jump = 0
            for i in range(1, len(receipts)):
                jump = receipts[i] - receipts[i - 1]
                if jump > biggest_jump:
                    biggest_jump = jump
            biggest_jump = round(biggest_jump, 2)
            ### END SOLUTION
            """, [
                "For position i, the jump is receipts[i] - receipts[i - 1].",
                "Keep the largest jump seen so far in a variable and update it inside the loop.",
                "Start with biggest_jump = 0, loop i over range(1, len(receipts)), keep the max, round at the end.",
            ]),
            tests("biggest-jump-tests", 3, """
            assert isinstance(biggest_jump, (int, float)), f"biggest_jump should be a number, got {type(biggest_jump).__name__}"
            assert biggest_jump > 0, "some receipt is bigger than the one before it, so the biggest jump is positive"
            """, """
            assert biggest_jump == 15.5, f"the biggest increase is 15.5 (from 3.2 to 18.7), you have {biggest_jump}"
            """),
        ]),
        Assignment("ps03-conditionals-and-functions", "Conditionals and functions",
                   due_offset_days=21, cells=[
            _intro("Problem set 3: conditionals and functions",
                   "Lessons 4 and 5. Each answer is a function; the tests call it with many inputs."),
            md("""
            ## 1. Letter grades (3 points)

            Write `letter_grade(score)` that returns `"A"` for 90 and above, `"B"` for 80–89,
            `"C"` for 70–79, `"D"` for 60–69 and `"F"` below 60. Scores are whole numbers from
            0 to 100.
            """),
            solution("letter-grade", """
            def letter_grade(score):
                ### BEGIN SOLUTION
                if score >= 90:
                    return "A"
                elif score >= 80:
                    return "B"
                elif score >= 70:
                    return "C"
                elif score >= 60:
                    return "D"
                return "F"
                ### END SOLUTION
            """, [
                "Use if / elif / else and return a letter in each branch.",
                "Check the highest band first: if score >= 90, then elif score >= 80, ...",
                "The boundaries belong to the higher grade: 90 is an A, 89 a B.",
            ]),
            tests("letter-grade-tests", 3, """
            assert letter_grade(95) == "A", f"95 should be an 'A', got {letter_grade(95)!r}"
            assert letter_grade(85) == "B", f"85 should be a 'B', got {letter_grade(85)!r}"
            assert letter_grade(10) == "F", f"10 should be an 'F', got {letter_grade(10)!r}"
            """, """
            for score, grade in [(90, "A"), (89, "B"), (80, "B"), (79, "C"), (70, "C"),
                                 (69, "D"), (60, "D"), (59, "F"), (0, "F"), (100, "A")]:
                assert letter_grade(score) == grade, f"{score} should be {grade!r}, got {letter_grade(score)!r} (check the boundaries)"
            """),
            md("""
            ## 2. Leap years (3 points)

            Write `is_leap_year(year)` returning `True` or `False`. A year is a leap year if
            it is divisible by 4, **except** years divisible by 100, which are leap years
            only if they are also divisible by 400. So 2024 is, 1900 is not, 2000 is.
            """),
            solution("leap-year", """
            def is_leap_year(year):
                ### BEGIN SOLUTION
                return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
                ### END SOLUTION
            """, [
                "`year % 4 == 0` is True when year is divisible by 4.",
                "Write the rule as: (divisible by 4 and not by 100) or divisible by 400.",
                "return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0",
            ]),
            tests("leap-year-tests", 3, """
            assert is_leap_year(2024) is True, "2024 is divisible by 4, so it is a leap year"
            assert is_leap_year(2023) is False, "2023 is not divisible by 4"
            """, """
            assert is_leap_year(1900) is False, "1900 is divisible by 100 but not by 400: not a leap year"
            assert is_leap_year(2000) is True, "2000 is divisible by 400: a leap year"
            assert is_leap_year(2100) is False, "2100 is divisible by 100 but not by 400: not a leap year"
            """),
            md("""
            ## 3. FizzBuzz as a list (4 points)

            Write `fizzbuzz(n)` that returns a list of strings for the numbers 1 to `n`:
            `"Fizz"` for multiples of 3, `"Buzz"` for multiples of 5, `"FizzBuzz"` for
            multiples of both, and the number itself as a string otherwise.
            `fizzbuzz(5)` is `["1", "2", "Fizz", "4", "Buzz"]`.
            """),
            solution("fizzbuzz", """
            def fizzbuzz(n):
                ### BEGIN SOLUTION
                result = []
                for i in range(1, n + 1):
                    if i % 15 == 0:
                        result.append("FizzBuzz")
                    elif i % 3 == 0:
                        result.append("Fizz")
                    elif i % 5 == 0:
                        result.append("Buzz")
                    else:
                        result.append(str(i))
                return result
                ### END SOLUTION
            """, [
                "Loop i over range(1, n + 1) and append one string per number.",
                "Test 'multiple of both' before 'multiple of 3', or 15 becomes just 'Fizz'.",
                "A multiple of both 3 and 5 is a multiple of 15: if i % 15 == 0 comes first.",
            ]),
            tests("fizzbuzz-tests", 4, """
            assert fizzbuzz(5) == ["1", "2", "Fizz", "4", "Buzz"], f"fizzbuzz(5) gave {fizzbuzz(5)}"
            assert len(fizzbuzz(20)) == 20, "fizzbuzz(20) should have 20 items"
            """, """
            assert fizzbuzz(15)[-1] == "FizzBuzz", f"15 is a multiple of 3 and 5: 'FizzBuzz', got {fizzbuzz(15)[-1]!r}"
            assert fizzbuzz(0) == [], "fizzbuzz(0) should be an empty list"
            assert fizzbuzz(30)[29] == "FizzBuzz" and fizzbuzz(30)[9] == "Buzz", "check 10 ('Buzz') and 30 ('FizzBuzz')"
            """),
        ]),
        Assignment("ps04-functions", "Writing good functions", due_offset_days=28, cells=[
            _intro("Problem set 4: writing good functions",
                   "Lesson 5. Defaults, edge cases, and one question in words that your "
                   "instructor grades by hand."),
            md("""
            ## 1. Counting vowels (2 points)

            Write `count_vowels(text)` that returns how many vowels (a, e, i, o, u, in upper
            or lower case) are in `text`.
            """),
            solution("count-vowels", """
            def count_vowels(text):
                ### BEGIN SOLUTION
                return sum(1 for ch in text.lower() if ch in "aeiou")
                ### END SOLUTION
            """, [
                "Loop over the characters of the text and count the ones that are vowels.",
                "`ch in 'aeiou'` tells you whether ch is a vowel; lower-case the text first.",
                "count = 0; for ch in text.lower(): if ch in 'aeiou': count += 1; return count",
            ]),
            tests("count-vowels-tests", 2, """
            assert count_vowels("banana") == 3, f"'banana' has 3 vowels, got {count_vowels('banana')}"
            assert count_vowels("") == 0, "an empty string has no vowels"
            """, """
            assert count_vowels("AEIOU xyz") == 5, "capital vowels count too"
            assert count_vowels("rhythm") == 0, "'rhythm' has no a, e, i, o or u"
            """),
            md("""
            ## 2. Clamp (3 points)

            Write `clamp(value, low=0, high=100)` that returns `value` if it lies between
            `low` and `high`, `low` if it is below, `high` if it is above. `low` and `high`
            have the default values shown.
            """),
            solution("clamp", """
            ### BEGIN SOLUTION
            def clamp(value, low=0, high=100):
                if value < low:
                    return low
                if value > high:
                    return high
                return value
            ### END SOLUTION
            """, [
                "Default values go in the def line: def clamp(value, low=0, high=100):",
                "Two checks: below low? above high? Otherwise the value is fine as it is.",
                "Or in one line: return max(low, min(value, high))",
            ]),
            tests("clamp-tests", 3, """
            assert clamp(50) == 50, f"50 lies between 0 and 100, got {clamp(50)}"
            assert clamp(150) == 100, f"150 is above 100, expected 100, got {clamp(150)}"
            """, """
            assert clamp(-5) == 0, "-5 is below the default low of 0"
            assert clamp(5, low=10, high=20) == 10, "with low=10, 5 should become 10"
            assert clamp(25, 10, 20) == 20, "with high=20, 25 should become 20"
            assert clamp(10, 10, 20) == 10, "the boundaries themselves are allowed"
            """),
            md("""
            ## 3. Mean that copes with nothing (3 points)

            Write `mean(numbers)` returning the average of a list of numbers, or `None`
            for an empty list (instead of crashing with `ZeroDivisionError`).
            """),
            solution("mean", """
            def mean(numbers):
                ### BEGIN SOLUTION
                if not numbers:
                    return None
                return sum(numbers) / len(numbers)
                ### END SOLUTION
            """, [
                "Handle the empty list first, before dividing.",
                "An empty list counts as False: `if not numbers: return None`.",
                "After that check: return sum(numbers) / len(numbers)",
            ]),
            tests("mean-tests", 3, """
            assert mean([2, 4, 6]) == 4, f"the mean of [2, 4, 6] is 4, got {mean([2, 4, 6])}"
            assert mean([]) is None, f"mean([]) should return None, got {mean([])!r}"
            """, """
            assert mean([5]) == 5, "the mean of one number is that number"
            assert abs(mean([1, 2]) - 1.5) < 1e-9, "the mean of [1, 2] is 1.5 (use /, not //)"
            """),
            md("""
            ## 4. In your own words (2 points, graded by your instructor)

            A classmate wrote this and is surprised that `doubled` is `None`:

            ```python
            def double(x):
                print(x * 2)

            doubled = double(21)
            ```

            Explain in two or three sentences why `doubled` is `None` and how to fix the
            function. Write your answer in the cell below.
            """),
            manual_answer("print-vs-return", 2, """
            `double` prints `x * 2` but never **returns** it, and a function without a
            `return` statement returns `None`; so `doubled` is `None`. Replace `print(x * 2)`
            with `return x * 2` (and print the result where it is needed).
            """),
        ]),
        Assignment("ps05-dictionaries", "Dictionaries", due_offset_days=35, cells=[
            _intro("Problem set 5: dictionaries", "Lesson 6. Counting, inverting and ranking."),
            md("""
            ## 1. Word counts (3 points)

            Write `word_counts(text)` returning a dictionary from each word to the number of
            times it appears. Ignore case (`"The"` and `"the"` are the same word) and split
            on whitespace. Punctuation can stay attached to words.
            """),
            solution("word-counts", """
            def word_counts(text):
                ### BEGIN SOLUTION
                counts = {}
                for word in text.lower().split():
                    counts[word] = counts.get(word, 0) + 1
                return counts
                ### END SOLUTION
            """, [
                "Start with an empty dictionary and loop over text.lower().split().",
                "For each word, add one to its count; .get(word, 0) gives 0 the first time.",
                "counts[word] = counts.get(word, 0) + 1",
            ]),
            tests("word-counts-tests", 3, """
            result = word_counts("the cat and the hat")
            assert isinstance(result, dict), f"word_counts should return a dict, got {type(result).__name__}"
            assert result.get("the") == 2, f"'the' appears twice, got {result.get('the')}"
            """, """
            assert word_counts("") == {}, "no words: an empty dictionary"
            assert word_counts("Go go GO") == {"go": 3}, "case should be ignored: expected {'go': 3}"
            """),
            md("""
            ## 2. Invert a phone book (3 points)

            Write `invert(phone_book)` that turns `{name: number}` into `{number: [names]}`.
            Several people can share a number, so each value is a **list** of names, in the
            order they appear in `phone_book`.
            """),
            solution("invert", """
            def invert(phone_book):
                ### BEGIN SOLUTION
                inverted = {}
                for name, number in phone_book.items():
                    inverted.setdefault(number, []).append(name)
                return inverted
                ### END SOLUTION
            """, [
                "Loop over phone_book.items() to get each name and number.",
                "If the number is not yet a key, give it an empty list; then append the name.",
                "inverted.setdefault(number, []).append(name) does both steps at once.",
            ]),
            tests("invert-tests", 3, """
            assert invert({"ann": "111"}) == {"111": ["ann"]}, f"expected {{'111': ['ann']}}, got {invert({'ann': '111'})}"
            """, """
            book = {"ann": "111", "bob": "222", "cid": "111"}
            assert invert(book) == {"111": ["ann", "cid"], "222": ["bob"]}, f"shared numbers should list every name, got {invert(book)}"
            assert invert({}) == {}, "an empty phone book inverts to an empty dict"
            """),
            md("""
            ## 3. Top words (4 points)

            Write `top_words(counts, n)` returning the `n` most frequent words from a
            `{word: count}` dictionary as a list of `(word, count)` pairs, most frequent first.
            When two words have the same count, put them in **alphabetical order**.
            """),
            solution("top-words", """
            def top_words(counts, n):
                ### BEGIN SOLUTION
                ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
                return ranked[:n]
                ### END SOLUTION
            """, [
                "sorted(counts.items(), ...) gives a list of (word, count) pairs you can slice.",
                "Sort by count, highest first: key=lambda pair: -pair[1].",
                "To break ties alphabetically, sort by a tuple: key=lambda pair: (-pair[1], pair[0]).",
            ]),
            tests("top-words-tests", 4, """
            counts = {"a": 5, "b": 9, "c": 1}
            assert top_words(counts, 2) == [("b", 9), ("a", 5)], f"expected [('b', 9), ('a', 5)], got {top_words(counts, 2)}"
            """, """
            tied = {"pear": 2, "apple": 2, "fig": 3}
            assert top_words(tied, 3) == [("fig", 3), ("apple", 2), ("pear", 2)], f"ties go alphabetically: got {top_words(tied, 3)}"
            assert top_words(tied, 10) == top_words(tied, 3), "asking for more words than exist returns them all"
            """),
        ]),
        Assignment("ps06-files", "Files", due_offset_days=42,
                   files={"readings.txt": _READINGS, "poem.txt": _POEM}, cells=[
            _intro("Problem set 6: files",
                   "Lesson 7. Two files come with this assignment: `poem.txt` and `readings.txt`."),
            md("""
            ## 1. Counting lines (2 points)

            Write `count_nonblank_lines(path)` returning how many lines of the file have
            something other than whitespace on them.
            """),
            solution("count-lines", """
            def count_nonblank_lines(path):
                ### BEGIN SOLUTION
                with open(path, encoding="utf-8") as f:
                    return sum(1 for line in f if line.strip())
                ### END SOLUTION
            """, [
                "Open the file with `with open(path, encoding='utf-8') as f:` and loop over f.",
                "line.strip() is an empty string (which counts as False) for a blank line.",
                "Count the lines where line.strip() is not empty.",
            ]),
            tests("count-lines-tests", 2, """
            assert count_nonblank_lines("poem.txt") == 7, f"poem.txt has 7 non-blank lines, got {count_nonblank_lines('poem.txt')}"
            """, """
            with open("_blank_test.txt", "w", encoding="utf-8") as f:
                f.write("one\\n\\n   \\ntwo\\n")
            assert count_nonblank_lines("_blank_test.txt") == 2, "lines with only spaces are blank too"
            """),
            md("""
            ## 2. Reading sensor data (4 points)

            `readings.txt` has one reading per line: `station,temperature`. Write
            `read_readings(path)` returning a dictionary from each station to the **list**
            of its temperatures as floats, in file order. Skip lines that start with `#`
            (comments) and blank lines.
            """),
            solution("read-readings", """
            def read_readings(path):
                ### BEGIN SOLUTION
                readings = {}
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        line = line.strip()
                        if not line or line.startswith("#"):
                            continue
                        station, value = line.split(",")
                        readings.setdefault(station, []).append(float(value))
                return readings
                ### END SOLUTION
            """, [
                "Strip each line, then skip it with `continue` if it is empty or starts with '#'.",
                "line.split(',') gives the station and the temperature text; float() converts it.",
                "readings.setdefault(station, []).append(float(value)) groups values per station.",
            ]),
            tests("read-readings-tests", 4, """
            data = read_readings("readings.txt")
            assert isinstance(data, dict), f"read_readings should return a dict, got {type(data).__name__}"
            assert sorted(data) == ["harbour", "hill", "park"], f"expected stations harbour, hill, park; got {sorted(data)}"
            assert all(isinstance(v, float) for v in data["park"]), "temperatures should be floats, not strings"
            """, """
            assert data["hill"] == [9.5, 8.0, 10.25], f"hill's readings in file order are [9.5, 8.0, 10.25], got {data['hill']}"
            assert len(data["harbour"]) == 3, "the comment line must not be read as a reading"
            """),
            md("""
            ## 3. Writing a report (4 points)

            Write `write_report(readings, path)` that writes one line per station, in
            alphabetical order, like `hill: 9.25`: the station, a colon, a space and the
            average temperature with two decimals. It returns nothing.
            """),
            solution("write-report", """
            def write_report(readings, path):
                ### BEGIN SOLUTION
                with open(path, "w", encoding="utf-8") as f:
                    for station in sorted(readings):
                        values = readings[station]
                        f.write(f"{station}: {sum(values) / len(values):.2f}\\n")
                ### END SOLUTION
            """, [
                "Open the file for writing with mode 'w' and loop over sorted(readings).",
                "The average is sum(values) / len(values); format it with :.2f.",
                'f.write(f"{station}: {average:.2f}\\n") writes one line; remember the newline at the end.',
            ]),
            tests("write-report-tests", 4, """
            write_report({"b": [1.0, 2.0], "a": [4.0]}, "_report_test.txt")
            with open("_report_test.txt", encoding="utf-8") as f:
                lines = f.read().splitlines()
            assert lines == ["a: 4.00", "b: 1.50"], f"expected ['a: 4.00', 'b: 1.50'], the file has {lines}"
            """, """
            write_report(read_readings("readings.txt"), "_report_test.txt")
            with open("_report_test.txt", encoding="utf-8") as f:
                lines = f.read().splitlines()
            assert lines == ["harbour: 12.50", "hill: 9.25", "park: 14.00"], f"report for readings.txt: {lines}"
            """),
        ]),
        Assignment("ps07-errors-and-exceptions", "Errors and exceptions", due_offset_days=49,
                   cells=[
            _intro("Problem set 7: errors and exceptions",
                   "Lesson 8. Catch the errors you expect and raise clear ones yourself."),
            md("""
            ## 1. Safe conversion (3 points)

            Write `to_number(text, default=None)` that returns `text` converted to a float,
            or `default` when the text is not a number (`float` raises `ValueError` then).
            Surrounding spaces are fine: `float(" 2.5 ")` works.
            """),
            solution("to-number", """
            def to_number(text, default=None):
                ### BEGIN SOLUTION
                try:
                    return float(text)
                except ValueError:
                    return default
                ### END SOLUTION
            """, [
                "Put the float(text) call inside a try block.",
                "Catch only ValueError, and return the default in the except block.",
                "try: return float(text) / except ValueError: return default",
            ]),
            tests("to-number-tests", 3, """
            assert to_number("2.5") == 2.5, f"'2.5' should become 2.5, got {to_number('2.5')!r}"
            assert to_number("abc") is None, f"'abc' is not a number: expected None, got {to_number('abc')!r}"
            """, """
            assert to_number("abc", default=0) == 0, "the default should be returned for bad input"
            assert to_number(" 7 ") == 7.0, "surrounding spaces are allowed"
            """),
            md("""
            ## 2. Checking an age (3 points)

            Write `parse_age(text)` that returns the age as an `int`. It raises
            `ValueError` with a helpful message if the text is not a whole number, or if
            the age is negative or above 150. The message must contain the bad text.
            """),
            solution("parse-age", """
            def parse_age(text):
                ### BEGIN SOLUTION
                try:
                    age = int(text)
                except ValueError:
                    raise ValueError(f"age must be a whole number, got {text!r}") from None
                if not 0 <= age <= 150:
                    raise ValueError(f"age must be between 0 and 150, got {text!r}")
                return age
                ### END SOLUTION
            """, [
                "int(text) already raises ValueError for non-numbers; catch it and raise your own message.",
                "After converting, check the range with `if not 0 <= age <= 150:`.",
                "raise ValueError(f'age must be between 0 and 150, got {text!r}')",
            ]),
            tests("parse-age-tests", 3, """
            assert parse_age("42") == 42, f"'42' should give 42, got {parse_age('42')!r}"
            try:
                parse_age("-3")
            except ValueError as e:
                assert "-3" in str(e), f"the message should contain the bad text '-3', it was: {e}"
            else:
                raise AssertionError("parse_age('-3') should raise ValueError (negative age)")
            """, """
            for bad in ["forty", "151", "4.5"]:
                try:
                    parse_age(bad)
                except ValueError as e:
                    assert bad in str(e), f"the message for {bad!r} should contain it, it was: {e}"
                else:
                    raise AssertionError(f"parse_age({bad!r}) should raise ValueError")
            assert parse_age("0") == 0 and parse_age("150") == 150, "0 and 150 are allowed"
            """),
            md("""
            ## 3. Totals from messy data (4 points)

            Write `total_valid(values)` that adds up the items of a list that can be
            converted with `float`, and returns `(total, problems)`: the sum, and a list of
            the positions of the items that could not be converted. Use your `to_number`.
            """),
            solution("total-valid", """
            def total_valid(values):
                ### BEGIN SOLUTION
                total, problems = 0.0, []
                for i, value in enumerate(values):
                    number = to_number(value)
                    if number is None:
                        problems.append(i)
                    else:
                        total += number
                return total, problems
                ### END SOLUTION
            """, [
                "enumerate(values) gives you each position together with the value.",
                "to_number returns None for bad items: record the position instead of adding.",
                "Return both results at once: return total, problems",
            ]),
            tests("total-valid-tests", 4, """
            total, problems = total_valid(["1", "2.5", "x"])
            assert total == 3.5, f"1 + 2.5 = 3.5, got {total}"
            assert problems == [2], f"only position 2 ('x') is bad, got {problems}"
            """, """
            assert total_valid([]) == (0.0, []), "an empty list: total 0.0 and no problems"
            assert total_valid(["a", "b"]) == (0.0, [0, 1]), "every bad item is reported"
            """),
        ]),
        Assignment("ps08-classes", "Classes", due_offset_days=56, cells=[
            _intro("Problem set 8: classes",
                   "Lesson 9. A bank account that never lets its balance go wrong."),
            md("""
            ## A bank account (8 points)

            Write a class `BankAccount`:

            - `BankAccount(owner, balance=0)` stores `owner` and `balance` attributes.
            - `deposit(amount)` adds to the balance and returns the new balance. A deposit of
              zero or less raises `ValueError`.
            - `withdraw(amount)` subtracts and returns the new balance. It raises
              `ValueError` for an amount of zero or less **or** more than the balance, and
              then leaves the balance unchanged.
            - `history` is a list of the successful transactions: `+50` for a deposit of 50,
              `-20` for a withdrawal of 20.
            - `repr(account)` shows it like `BankAccount('Ada', balance=12.50)`: the owner's
              name in quotes and the balance with two decimals (write `__repr__`).
            """),
            solution("bank-account", """
            ### BEGIN SOLUTION
            class BankAccount:
                def __init__(self, owner, balance=0):
                    self.owner = owner
                    self.balance = balance
                    self.history = []

                def deposit(self, amount):
                    if amount <= 0:
                        raise ValueError("deposit must be positive")
                    self.balance += amount
                    self.history.append(amount)
                    return self.balance

                def withdraw(self, amount):
                    if amount <= 0:
                        raise ValueError("withdrawal must be positive")
                    if amount > self.balance:
                        raise ValueError("insufficient funds")
                    self.balance -= amount
                    self.history.append(-amount)
                    return self.balance

                def __repr__(self):
                    return f"BankAccount({self.owner!r}, balance={self.balance:.2f})"
            ### END SOLUTION
            """, [
                "Start with `class BankAccount:` and an `__init__(self, owner, balance=0)` that sets self.owner, self.balance and self.history = [].",
                "Check the amount first and raise before changing anything, so a failed withdrawal leaves the balance alone.",
                "In withdraw: if amount <= 0 or amount > self.balance: raise ValueError(...); then subtract and append -amount.",
                "__repr__ must return the text: return f\"BankAccount({self.owner!r}, balance={self.balance:.2f})\"",
            ]),
            tests("bank-account-tests", 3, """
            acct = BankAccount("Ada", 100)
            assert acct.owner == "Ada" and acct.balance == 100, "BankAccount('Ada', 100) should store owner and balance"
            assert acct.deposit(50) == 150, "deposit(50) on 100 should return 150"
            assert acct.withdraw(30) == 120, "withdraw(30) on 150 should return 120"
            assert acct.history == [50, -30], f"history should be [50, -30], got {acct.history}"
            """, """
            assert BankAccount("Bo").balance == 0, "the balance should default to 0"
            assert BankAccount("Cy").history is not BankAccount("Di").history, "each account needs its own history list"
            """),
            tests("bank-account-errors-tests", 3, """
            acct = BankAccount("Ada", 10)
            try:
                acct.withdraw(25)
            except ValueError:
                pass
            else:
                raise AssertionError("withdrawing more than the balance should raise ValueError")
            assert acct.balance == 10, f"a failed withdrawal must not change the balance, it is now {acct.balance}"
            """, """
            for method, amount in [("deposit", 0), ("deposit", -5), ("withdraw", -1)]:
                try:
                    getattr(acct, method)(amount)
                except ValueError:
                    pass
                else:
                    raise AssertionError(f"{method}({amount}) should raise ValueError")
            assert acct.history == [], f"failed transactions must not appear in history: {acct.history}"
            """),
            tests("bank-account-repr-tests", 2, """
            shown = repr(BankAccount("Ada", 12.5))
            assert shown == "BankAccount('Ada', balance=12.50)", f"expected \\"BankAccount('Ada', balance=12.50)\\", got {shown!r}"
            """, """
            acct = BankAccount("Bo")
            acct.deposit(3)
            assert repr(acct) == "BankAccount('Bo', balance=3.00)", f"repr should follow the balance, got {acct!r}"
            """),
        ]),
        Assignment("ps09-testing", "Testing your own code", due_offset_days=63, cells=[
            _intro("Problem set 9: testing your own code",
                   "Lesson 10. This time the autograder also tests **your tests**: it hands them "
                   "broken functions and checks that your tests catch the bugs."),
            md("""
            ## 1. A median function (3 points)

            Write `median(numbers)`: the middle value of the sorted numbers, or the average
            of the two middle values when there is an even count. It raises `ValueError`
            for an empty list. Do not change the list you are given.
            """),
            solution("median", """
            def median(numbers):
                ### BEGIN SOLUTION
                if not numbers:
                    raise ValueError("median of an empty list is undefined")
                ordered = sorted(numbers)
                middle = len(ordered) // 2
                if len(ordered) % 2 == 1:
                    return ordered[middle]
                return (ordered[middle - 1] + ordered[middle]) / 2
                ### END SOLUTION
            """, [
                "sorted(numbers) returns a sorted copy, leaving numbers unchanged.",
                "The middle position is len(ordered) // 2; for an even count, average it with the one before.",
                "if len(ordered) % 2 == 1: return ordered[middle] else return (ordered[middle - 1] + ordered[middle]) / 2",
            ]),
            tests("median-tests", 3, """
            assert median([3, 1, 2]) == 2, f"median([3, 1, 2]) is 2, got {median([3, 1, 2])}"
            assert median([4, 1, 3, 2]) == 2.5, f"median([4, 1, 3, 2]) is 2.5, got {median([4, 1, 3, 2])}"
            """, """
            data = [5, 3, 1]
            median(data)
            assert data == [5, 3, 1], "median must not sort the caller's list in place"
            try:
                median([])
            except ValueError:
                pass
            else:
                raise AssertionError("median([]) should raise ValueError")
            """),
            md("""
            ## 2. Tests that catch bugs (5 points)

            Write `check_median(f)`: it calls the function `f` (some implementation of
            median) on cases you choose and uses `assert` to check the answers. It must
            **pass** (raise nothing) for a correct median and raise `AssertionError` for a
            wrong one. The autograder tries it on several buggy medians you cannot see:
            think about unsorted input, even counts, one element, and negative numbers.
            """),
            solution("check-median", """
            def check_median(f):
                ### BEGIN SOLUTION
                assert f([7]) == 7, "one element is its own median"
                assert f([3, 1, 2]) == 2, "unsorted, odd count"
                assert f([4, 1, 3, 2]) == 2.5, "unsorted, even count"
                assert f([-5, -1, -3]) == -3, "negative numbers"
                data = [9, 8, 7]
                f(data)
                assert data == [9, 8, 7], "must not modify its input"
                ### END SOLUTION
            """, [
                "Each check is one line: assert f(some_list) == the_right_answer, 'message'.",
                "Buggy medians often forget to sort, or forget to average for an even count: choose inputs that expose both.",
                "Also check [7], a list with negatives, and that the list you pass in is unchanged afterwards.",
            ]),
            tests("check-median-tests", 2, """
            check_median(median)  # your tests must accept a correct median

            def forgets_to_sort(numbers):
                return numbers[len(numbers) // 2]

            try:
                check_median(forgets_to_sort)
            except AssertionError:
                pass
            else:
                raise AssertionError("check_median accepted a median that forgets to sort; try an unsorted list")
            """, """
            def never_averages(numbers):
                s = sorted(numbers)
                return s[len(s) // 2]

            try:
                check_median(never_averages)
            except AssertionError:
                pass
            else:
                raise AssertionError("check_median accepted a median that does not average the two middle values")
            """),
            tests("check-median-hidden-tests", 3, """
            check_median(median)
            """, """
            def sorts_in_place(numbers):
                numbers.sort()
                n = len(numbers)
                return numbers[n // 2] if n % 2 else (numbers[n // 2 - 1] + numbers[n // 2]) / 2

            def abs_values(numbers):
                s = sorted(abs(x) for x in numbers)
                n = len(s)
                return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

            for name, buggy in [("sorts the caller's list in place", sorts_in_place),
                                ("ignores the sign of negative numbers", abs_values)]:
                try:
                    check_median(buggy)
                except AssertionError:
                    pass
                else:
                    raise AssertionError(f"check_median accepted a median that {name}")
            """),
        ]),
    ]


_POEM = """\
The wind was a torrent of darkness among the gusty trees,

The moon was a ghostly galleon tossed upon cloudy seas,
The road was a ribbon of moonlight over the purple moor,
And the highwayman came riding,
    Riding, riding,

The highwayman came riding, up to the old inn-door.

Over the cobbles he clattered and clashed in the dark inn-yard.
"""

_READINGS = """\
# station,temperature (degrees C), one reading a line
park,13.5
hill,9.5
harbour,12.0

park,14.5
hill,8.0
harbour,12.5
# the harbour sensor was recalibrated here
harbour,13.0
hill,10.25
park,14.0
"""
