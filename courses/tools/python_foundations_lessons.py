"""Python foundations: the ten lesson notebooks (plain, readable, every example runs)."""

from nbbuild import Lesson, code, md


def _lessons() -> list[Lesson]:
    return [
        Lesson("01-values-and-types", "Values and types", [
            md("""
            # 1. Values and types

            A program works with **values**: numbers, pieces of text, truth values. Every
            value has a **type**, and the type decides what you can do with it.

            Run each cell with **Shift+Enter** and read the output before moving on.
            """),
            code("""
            print(42)          # an int (whole number)
            print(3.5)         # a float (number with a fractional part)
            print("hello")     # a str (text, between quotes)
            print(True)        # a bool (True or False)
            """),
            md("""
            `type()` tells you the type of any value. In a notebook, the value of the last
            line of a cell is shown without `print`.
            """),
            code("""
            type(42), type(3.5), type("hello"), type(True)
            """),
            md("""
            ## Variables

            A **variable** is a name for a value. `=` means *make this name refer to that
            value*; it is not a question about equality.
            """),
            code("""
            minutes_per_hour = 60
            hours = 2.5
            minutes = hours * minutes_per_hour
            minutes
            """),
            md("""
            ## Arithmetic

            | operator | meaning | example | result |
            | --- | --- | --- | --- |
            | `+` `-` `*` | add, subtract, multiply | `7 * 3` | `21` |
            | `/` | divide (always a float) | `7 / 2` | `3.5` |
            | `//` | whole-number division | `7 // 2` | `3` |
            | `%` | remainder | `7 % 2` | `1` |
            | `**` | power | `2 ** 10` | `1024` |
            """),
            code("""
            total_minutes = 135
            hours = total_minutes // 60
            minutes = total_minutes % 60
            print(hours, "hours and", minutes, "minutes")
            """),
            md("""
            ## Converting between types

            `int()`, `float()` and `str()` make a value of another type. This matters
            because text that *looks* like a number is still text:
            """),
            code("""
            print("7" + "3")            # joining two strings
            print(int("7") + int("3"))  # adding two numbers
            print(str(10) + " apples")
            """),
            md("""
            **Worked example.** A recipe for 4 people needs 300 g of flour. How much for 6?
            """),
            code("""
            flour_for_four = 300
            people = 6
            flour = flour_for_four / 4 * people
            print(f"{flour} g of flour")   # an f-string puts values into text
            """),
            md("""
            **Remember:** every value has a type; `/` always gives a float; convert text with
            `int()`/`float()` before doing arithmetic on it.
            """),
        ]),
        Lesson("02-strings", "Strings", [
            md("""
            # 2. Strings

            A string is a sequence of characters. Single and double quotes both work;
            triple quotes allow several lines.
            """),
            code("""
            name = "Ada Lovelace"
            len(name)
            """),
            md("""
            ## Indexing and slicing

            Positions start at **0**. Negative positions count from the end. A slice
            `s[start:stop]` includes `start` and stops *before* `stop`.
            """),
            code("""
            word = "notebook"
            print(word[0], word[-1])   # first and last character
            print(word[0:4])           # 'note'
            print(word[4:])            # 'book'
            """),
            md("""
            ## Methods

            Strings come with methods: functions you call with a dot. They never change the
            original string (strings are *immutable*); they return a new one.
            """),
            code("""
            city = "  amsterdam "
            clean = city.strip().title()
            print(repr(city), "->", repr(clean))
            print("banana".count("a"), "banana".replace("a", "o"), "banana".upper())
            """),
            md("""
            `split` breaks text into a list of parts and `join` glues a list back together:
            """),
            code("""
            sentence = "the quick brown fox"
            words = sentence.split()
            print(words)
            print("-".join(words))
            """),
            md("""
            ## f-strings

            Put an `f` before the quote and write values inside `{}`. After a colon you can
            say how to format them: `:.2f` is two decimals.
            """),
            code("""
            item, price = "coffee", 2.5
            print(f"One {item} costs €{price:.2f}")
            """),
            md("""
            **Worked example.** Turn `"grace hopper"` into initials `"G.H."`:
            """),
            code("""
            full = "grace hopper"
            first, last = full.split()
            initials = first[0].upper() + "." + last[0].upper() + "."
            initials
            """),
        ]),
        Lesson("03-lists-and-loops", "Lists and loops", [
            md("""
            # 3. Lists and loops

            A **list** holds several values in order. Unlike strings, lists can be changed.
            """),
            code("""
            temperatures = [12.5, 15.0, 9.5, 18.0]
            temperatures.append(21.0)
            print(temperatures, len(temperatures), temperatures[0])
            """),
            md("""
            ## The `for` loop

            A `for` loop runs its indented block once for each item. The *accumulator
            pattern* starts with an empty result and adds to it on every round:
            """),
            code("""
            total = 0
            for t in temperatures:
                total = total + t
            average = total / len(temperatures)
            print(f"average {average:.1f}")
            """),
            md("""
            Python also has built-ins for common cases: `sum`, `min`, `max`, `sorted`.
            Knowing the loop helps you when there is no built-in for what you need.
            """),
            code("""
            print(sum(temperatures), min(temperatures), max(temperatures))
            print(sorted(temperatures, reverse=True))
            """),
            md("""
            ## `range` and building new lists
            """),
            code("""
            squares = []
            for n in range(1, 6):      # 1, 2, 3, 4, 5 (stops before 6)
                squares.append(n * n)
            squares
            """),
            md("""
            A **list comprehension** says the same thing in one line:
            """),
            code("""
            squares = [n * n for n in range(1, 6)]
            warm = [t for t in temperatures if t > 14]
            squares, warm
            """),
            md("""
            **Worked example.** Count the words longer than four letters.
            """),
            code("""
            words = "a journey of a thousand miles begins with one step".split()
            count = 0
            for w in words:
                if len(w) > 4:
                    count += 1
            count
            """),
        ]),
        Lesson("04-conditionals", "Conditionals", [
            md("""
            # 4. Conditionals

            `if`, `elif` and `else` let a program choose. Conditions are expressions that
            are `True` or `False`: comparisons `== != < <= > >=`, combined with `and`,
            `or`, `not`.
            """),
            code("""
            temperature = 23
            if temperature >= 25:
                advice = "shorts"
            elif temperature >= 15:
                advice = "t-shirt"
            else:
                advice = "coat"
            advice
            """),
            md("""
            Python checks the branches **top to bottom** and runs only the first one that
            is true. Order matters: put the most specific test first.
            """),
            code("""
            year = 1900
            is_leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
            print(year, "is a leap year:", is_leap)
            """),
            md("""
            ## Truthiness

            Empty things (`""`, `[]`, `0`, `None`) count as false in an `if`; everything
            else counts as true.
            """),
            code("""
            for basket in ([], ["apple"]):
                if basket:
                    print("something in the basket:", basket)
                else:
                    print("the basket is empty")
            """),
            md("""
            **A common mistake:** `=` assigns, `==` compares. `if x = 3:` is a syntax error.
            """),
        ]),
        Lesson("05-functions", "Functions", [
            md("""
            # 5. Functions

            A function gives a name to a piece of work so you can reuse it. `def` starts
            it, the parameters go in brackets and `return` hands the answer back.
            """),
            code("""
            def fahrenheit(celsius):
                \"\"\"Convert degrees Celsius to degrees Fahrenheit.\"\"\"
                return celsius * 9 / 5 + 32

            fahrenheit(100), fahrenheit(-40)
            """),
            md("""
            ## `return` versus `print`

            `print` shows a value on screen; `return` gives it to whoever called the
            function. A function without `return` returns `None`.
            """),
            code("""
            def shows(x):
                print(x * 2)

            def gives(x):
                return x * 2

            a = shows(5)
            b = gives(5)
            print("a is", a, "and b is", b)
            """),
            md("""
            ## Default and keyword arguments
            """),
            code("""
            def greet(name, greeting="Hello"):
                return f"{greeting}, {name}!"

            print(greet("Sam"))
            print(greet("Sam", greeting="Welcome"))
            """),
            md("""
            ## Scope

            Variables created inside a function exist only while it runs. Pass values in
            as parameters and get results out with `return`.

            **Worked example.** A function that uses a loop and a condition:
            """),
            code("""
            def count_even(numbers):
                count = 0
                for n in numbers:
                    if n % 2 == 0:
                        count += 1
                return count

            count_even([1, 2, 3, 4, 10])
            """),
        ]),
        Lesson("06-dictionaries", "Dictionaries", [
            md("""
            # 6. Dictionaries

            A dictionary maps **keys** to **values**, like a phone book maps names to
            numbers. Looking up a key is fast however big the dictionary is.
            """),
            code("""
            capitals = {"France": "Paris", "Japan": "Tokyo"}
            capitals["Kenya"] = "Nairobi"
            print(capitals["Japan"], len(capitals))
            """),
            md("""
            Asking for a key that is not there raises `KeyError`. Use `in` to check, or
            `.get(key, default)`:
            """),
            code("""
            print("Peru" in capitals)
            print(capitals.get("Peru", "unknown"))
            """),
            md("""
            ## Looping over a dictionary
            """),
            code("""
            for country, capital in capitals.items():
                print(f"{capital} is the capital of {country}")
            """),
            md("""
            **Worked example: counting.** The pattern *get the current count (0 if none),
            add one* is everywhere:
            """),
            code("""
            counts = {}
            for letter in "mississippi":
                counts[letter] = counts.get(letter, 0) + 1
            counts
            """),
            md("""
            To sort by value, give `sorted` a `key`: a function that says what to compare.
            """),
            code("""
            sorted(counts.items(), key=lambda pair: pair[1], reverse=True)
            """),
        ]),
        Lesson("07-files", "Files", [
            md("""
            # 7. Files

            Programs read data from files and write results to them. `open` with a `with`
            block closes the file for you, even if something goes wrong.
            """),
            code("""
            with open("shopping.txt", "w", encoding="utf-8") as f:
                f.write("bread\\n")
                f.write("milk\\n")
                f.write("apples\\n")
            """),
            md("""
            Mode `"w"` writes (replacing the file), `"a"` appends, `"r"` (the default)
            reads. Reading line by line gives each line *with* its `\\n`; `strip()` removes it.
            """),
            code("""
            items = []
            with open("shopping.txt", encoding="utf-8") as f:
                for line in f:
                    items.append(line.strip())
            items
            """),
            md("""
            **Worked example.** A file of `name,score` lines, read into a dictionary:
            """),
            code("""
            with open("scores.txt", "w", encoding="utf-8") as f:
                f.write("ana,17\\nben,12\\n")

            scores = {}
            with open("scores.txt", encoding="utf-8") as f:
                for line in f:
                    name, score = line.strip().split(",")
                    scores[name] = int(score)
            scores
            """),
            md("""
            `pathlib.Path` is handy for checking and building paths:
            """),
            code("""
            from pathlib import Path
            p = Path("scores.txt")
            print(p.exists(), p.suffix, p.read_text(encoding="utf-8").splitlines())
            """),
        ]),
        Lesson("08-errors-and-exceptions", "Errors and exceptions", [
            md("""
            # 8. Errors and exceptions

            When Python cannot do something it **raises an exception**. Read the last line
            of the traceback first: it names the exception and says what went wrong.
            """),
            code("""
            try:
                int("twelve")
            except ValueError as e:
                print("ValueError:", e)
            """),
            md("""
            `try`/`except` catches an exception so the program can recover. Catch only
            the exceptions you expect and can handle; a bare `except:` hides real bugs.
            """),
            code("""
            def safe_ratio(a, b):
                try:
                    return a / b
                except ZeroDivisionError:
                    return None

            safe_ratio(6, 3), safe_ratio(1, 0)
            """),
            md("""
            ## Raising your own

            When your function gets input it cannot handle, raise an exception with a
            message that says what was wrong and what is expected:
            """),
            code("""
            def set_volume(level):
                if not 0 <= level <= 10:
                    raise ValueError(f"volume must be between 0 and 10, got {level}")
                return level

            try:
                set_volume(11)
            except ValueError as e:
                print(e)
            """),
            md("""
            `else` runs when no exception happened and `finally` always runs:
            """),
            code("""
            for text in ["3", "x"]:
                try:
                    n = int(text)
                except ValueError:
                    print(repr(text), "is not a number")
                else:
                    print(repr(text), "doubled is", n * 2)
                finally:
                    print("checked", repr(text))
            """),
        ]),
        Lesson("09-classes", "Classes", [
            md("""
            # 9. Classes

            A class bundles data (**attributes**) with the functions that work on it
            (**methods**). Each object made from the class has its own data.
            """),
            code("""
            class Counter:
                \"\"\"Counts clicks, like a tally counter at a door.\"\"\"

                def __init__(self, start=0):
                    self.count = start

                def click(self):
                    self.count += 1
                    return self.count

            door = Counter()
            door.click()
            door.click()
            door.count
            """),
            md("""
            `__init__` runs when an object is created; `self` is the object itself. Methods
            can check their input and raise, so an object never gets into a bad state:
            """),
            code("""
            class Thermostat:
                def __init__(self, target=20.0):
                    self.target = target

                def set_target(self, value):
                    if not 5 <= value <= 30:
                        raise ValueError("target must be between 5 and 30 degrees")
                    self.target = value

                def __repr__(self):
                    return f"Thermostat(target={self.target})"

            t = Thermostat()
            t.set_target(22.5)
            t
            """),
            md("""
            `__repr__` decides how the object is shown. Other "dunder" methods let objects
            work with operators: `__eq__` for `==`, `__len__` for `len()`.
            """),
            code("""
            class Point:
                def __init__(self, x, y):
                    self.x, self.y = x, y

                def __eq__(self, other):
                    return (self.x, self.y) == (other.x, other.y)

            Point(1, 2) == Point(1, 2), Point(1, 2) == Point(2, 1)
            """),
        ]),
        Lesson("10-testing-your-own-code", "Testing your own code", [
            md("""
            # 10. Testing your own code

            A test is code that checks other code. `assert condition, message` does nothing
            when the condition is true and raises `AssertionError` with your message when
            it is false. Good messages say what was expected and what happened.
            """),
            code("""
            def average(numbers):
                return sum(numbers) / len(numbers)

            result = average([2, 4, 9])
            assert result == 5, f"average([2, 4, 9]) should be 5, got {result}"
            print("passed")
            """),
            md("""
            ## Which cases?

            Test the ordinary case, the edges (empty, one item, zero, negative) and the
            cases you suspect. Write them as a function so you can re-run them after every
            change:
            """),
            code("""
            def test_average():
                assert average([5]) == 5, "one number is its own average"
                assert average([-1, 1]) == 0, "negatives should cancel positives"
                assert abs(average([0.1, 0.2]) - 0.15) < 1e-9, "use a tolerance for floats"

            test_average()
            print("all average tests passed")
            """),
            md("""
            ## Tests catch bugs

            Here is a buggy median: it forgets to sort. A test with an unsorted list finds
            the bug; a test with an already-sorted list would not.
            """),
            code("""
            def buggy_median(numbers):
                return numbers[len(numbers) // 2]

            try:
                assert buggy_median([3, 1, 2]) == 2, "median of [3, 1, 2] should be 2"
            except AssertionError as e:
                print("the test caught a bug:", e)
            """),
            md("""
            Floating-point numbers are rarely exactly equal: compare them with a tolerance
            (`math.isclose`). And test that bad input raises the error you promised:
            """),
            code("""
            import math

            assert math.isclose(0.1 + 0.2, 0.3), "0.1 + 0.2 is close to 0.3"
            try:
                average([])
            except ZeroDivisionError:
                print("average([]) raises ZeroDivisionError; maybe it should say more")
            """),
        ]),
    ]


TRY_IT = {
    "01-values-and-types": """
        How many seconds are there in a day? In a (non-leap) year? Use variables with clear
        names, and check with `type()` whether your answers are `int` or `float`.
    """,
    "02-strings": """
        Take your own full name and print it backwards (`[::-1]`), in capitals, and with
        only the first letter of each word in capitals (`.title()`).
    """,
    "03-lists-and-loops": """
        Make a list of five prices. With a loop, count how many are below the average, then
        do the same in one line with a list comprehension and `len`.
    """,
    "04-conditionals": """
        Write the rules of a ticket price: children under 12 pay 5, people of 65 and over
        pay 7, everyone else 10. Try it for the ages 11, 12, 64 and 65.
    """,
    "05-functions": """
        Turn your ticket-price rules from lesson 4 into a function `ticket_price(age)` and
        call it for a whole family with a loop. What happens if you forget `return`?
    """,
    "06-dictionaries": """
        Count the letters of a sentence of your choice and print the three most common
        ones. Then make a dictionary from each word to its length.
    """,
    "07-files": """
        Write a file with one number per line, then read it back and print the total.
        What happens if one line is empty? (Lesson 8 shows how to cope.)
    """,
    "08-errors-and-exceptions": """
        Write `ask_int(text)` that returns `int(text)` or raises a `ValueError` whose message
        says what was wrong. Try it with `"7"`, `"seven"` and `""`.
    """,
    "09-classes": """
        Write a `Stopwatch` class with `start()`, `stop()` and an `elapsed` attribute (use
        `time.perf_counter()`). What should `stop()` do if the watch was never started?
    """,
    "10-testing-your-own-code": """
        Write a `test_ticket_price()` function for your function from lesson 5, including the
        boundary ages. Then put a bug in `ticket_price` on purpose: do your tests catch it?
    """,
}


def lessons() -> list[Lesson]:
    result = _lessons()
    for lesson in result:
        lesson.try_it = TRY_IT[lesson.slug]
    return result
