"""Data analysis with pandas: lessons, assignments and the small data sets they use."""

from nbbuild import Assignment, Lesson, code, md, solution, tests

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# Rounded long-term monthly means (temperature in °C, rain in mm), close to the real
# climate of each city: small enough to read, real enough to be interesting.
_CLIMATE = {
    "Amsterdam": ([3.4, 3.8, 6.3, 9.2, 13.0, 15.6, 17.9, 17.5, 14.6, 10.9, 7.0, 4.2],
                  [68, 53, 44, 49, 52, 58, 77, 87, 72, 85, 82, 77]),
    "Madrid": ([6.3, 7.9, 11.2, 12.9, 16.9, 22.2, 25.6, 25.1, 20.9, 15.1, 9.9, 6.9],
               [33, 35, 25, 45, 50, 22, 11, 10, 28, 60, 60, 50]),
    "Oslo": ([-2.9, -2.8, 0.9, 5.7, 11.2, 15.4, 17.1, 15.8, 11.2, 5.9, 1.2, -2.0],
             [55, 37, 45, 41, 53, 66, 81, 88, 84, 87, 74, 56]),
}


def weather_csv() -> str:
    rows = ["city,month,month_name,temp_c,rain_mm"]
    for city, (temps, rain) in _CLIMATE.items():
        for m in range(12):
            rows.append(f"{city},{m + 1},{_MONTHS[m]},{temps[m]},{rain[m]}")
    return "\n".join(rows) + "\n"


STEPS_CSV = """\
day,steps
2024-03-04,6512
2024-03-05,8120
2024-03-06,7405
2024-03-07,9033
2024-03-08,5210
2024-03-09,12044
2024-03-10,10387
2024-03-11,7001
2024-03-12,6880
2024-03-13,8302
2024-03-14,7790
2024-03-15,4950
2024-03-16,13520
2024-03-17,9874
2024-03-18,7250
2024-03-19,8015
2024-03-20,6120
2024-03-21,9980
2024-03-22,5560
2024-03-23,11890
2024-03-24,11002
2024-03-25,6634
2024-03-26,9120
2024-03-27,8411
2024-03-28,7020
2024-03-29,6002
2024-03-30,14210
2024-03-31,10550
"""

SALES_CSV = """\
date,item,category,quantity,unit_price
2024-05-06,espresso,coffee,14,2.20
2024-05-06,cappuccino,coffee,22,3.10
2024-05-06,croissant,bakery,18,2.40
2024-05-06,orange juice,cold drinks,6,3.50
2024-05-07,espresso,coffee,11,2.20
2024-05-07,cappuccino,coffee,19,3.10
2024-05-07,croissant,bakery,15,2.40
2024-05-07,banana bread,bakery,7,3.20
2024-05-08,espresso,coffee,16,2.20
2024-05-08,cappuccino,coffee,25,3.10
2024-05-08,iced tea,cold drinks,9,2.90
2024-05-08,croissant,bakery,21,2.40
2024-05-09,espresso,coffee,12,2.20
2024-05-09,cappuccino,coffee,20,3.10
2024-05-09,banana bread,bakery,10,3.20
2024-05-10,espresso,coffee,18,2.20
2024-05-10,cappuccino,coffee,31,3.10
2024-05-10,croissant,bakery,26,2.40
2024-05-10,orange juice,cold drinks,12,3.50
2024-05-10,iced tea,cold drinks,14,2.90
2024-05-11,cappuccino,coffee,38,3.10
2024-05-11,croissant,bakery,30,2.40
2024-05-11,banana bread,bakery,15,3.20
2024-05-11,orange juice,cold drinks,17,3.50
2024-05-12,cappuccino,coffee,27,3.10
2024-05-12,croissant,bakery,22,2.40
2024-05-12,iced tea,cold drinks,11,2.90
"""


def _lessons() -> list[Lesson]:
    data = ["lessons/data/weather.csv"]
    return [
        Lesson("01-numpy-arrays", "NumPy arrays", [
            md("""
            # 1. NumPy arrays

            A NumPy **array** holds many numbers of one type and does arithmetic on all of
            them at once ("vectorised"), without a Python loop. That makes it short to write
            and fast to run.
            """),
            code("""
            import numpy as np

            temps = np.array([3.4, 3.8, 6.3, 9.2, 13.0, 15.6])
            temps * 9 / 5 + 32          # every element converted at once
            """),
            md("""
            Arrays have a `shape` and a `dtype`, and methods for statistics:
            """),
            code("""
            print(temps.shape, temps.dtype)
            print(temps.mean(), temps.min(), temps.max(), temps.std().round(2))
            """),
            md("""
            ## Boolean masks

            A comparison gives an array of `True`/`False`; use it to select elements.
            """),
            code("""
            warm = temps > 8
            print(warm)
            print(temps[warm], warm.sum(), "warm months")
            """),
            md("""
            ## Two dimensions

            `reshape` turns a flat array into rows and columns; `axis=0` works down the
            columns and `axis=1` along the rows.
            """),
            code("""
            daily = np.arange(1, 15)         # 1 .. 14
            weeks = daily.reshape(2, 7)      # 2 weeks of 7 days
            print(weeks)
            print("per week:", weeks.sum(axis=1), "per weekday:", weeks.sum(axis=0))
            """),
        ]),
        Lesson("02-dataframes", "Series and DataFrames", [
            md("""
            # 2. Series and DataFrames

            pandas adds labels to arrays. A **Series** is one labelled column; a
            **DataFrame** is a table of columns. `read_csv` loads a CSV file.
            """),
            code("""
            import pandas as pd

            weather = pd.read_csv("data/weather.csv")
            weather.head()
            """),
            md("""
            First look at any new data set: its size, column types and a summary.
            """),
            code("""
            print(weather.shape)
            print(weather.dtypes)
            weather.describe()
            """),
            md("""
            A column is a Series; Series have the same statistics methods as arrays.
            """),
            code("""
            rain = weather["rain_mm"]
            print(type(rain).__name__, rain.sum(), rain.max())
            weather["city"].value_counts()
            """),
            md("""
            ## New columns

            Arithmetic on columns works element by element, like NumPy:
            """),
            code("""
            weather["temp_f"] = weather["temp_c"] * 9 / 5 + 32
            weather[["city", "month_name", "temp_c", "temp_f"]].head(3)
            """),
        ], files=data),
        Lesson("03-selecting-and-filtering", "Selecting and filtering", [
            md("""
            # 3. Selecting and filtering

            Select rows with a boolean condition, exactly like a NumPy mask. Combine
            conditions with `&` (and) and `|` (or), each in brackets.
            """),
            code("""
            import pandas as pd

            weather = pd.read_csv("data/weather.csv")
            wet_summer = weather[(weather["month"].between(6, 8)) & (weather["rain_mm"] > 70)]
            wet_summer
            """),
            md("""
            `.loc[rows, columns]` selects by label, and `sort_values` orders the rows:
            """),
            code("""
            oslo = weather.loc[weather["city"] == "Oslo", ["month_name", "temp_c"]]
            oslo.sort_values("temp_c").head(3)
            """),
            md("""
            `isin` tests membership, and `query` is a readable alternative for simple
            filters:
            """),
            code("""
            south = weather[weather["city"].isin(["Madrid"])]
            print(len(south))
            weather.query("temp_c < 0")
            """),
            md("""
            **Watch out:** to change values in a selection, use `.loc` on the original
            DataFrame, not a chain like `df[df.x > 0]["y"] = 1`, which changes a copy.
            """),
        ], files=data),
        Lesson("04-grouping", "Grouping and aggregating", [
            md("""
            # 4. Grouping and aggregating

            *Split, apply, combine*: `groupby` splits the rows by a key, applies a summary
            to each group and combines the results.
            """),
            code("""
            import pandas as pd

            weather = pd.read_csv("data/weather.csv")
            weather.groupby("city")["rain_mm"].sum().sort_values(ascending=False)
            """),
            md("""
            `agg` computes several summaries at once:
            """),
            code("""
            weather.groupby("city").agg(
                mean_temp=("temp_c", "mean"),
                coldest=("temp_c", "min"),
                total_rain=("rain_mm", "sum"),
            ).round(1)
            """),
            md("""
            `pivot` turns the long table into a wide one: one row per month, one column per
            city. Wide tables are handy for comparing and for plotting.
            """),
            code("""
            wide = weather.pivot(index="month", columns="city", values="temp_c")
            wide.head()
            """),
            md("""
            **Worked example.** Which city has the biggest gap between its warmest and
            coldest month?
            """),
            code("""
            by_city = weather.groupby("city")["temp_c"]
            (by_city.max() - by_city.min()).idxmax()
            """),
        ], files=data),
        Lesson("05-plotting", "Plotting with matplotlib", [
            md("""
            # 5. Plotting with matplotlib

            Make a figure and its axes with `plt.subplots()`, then draw on the **axes**
            object. Functions that return the axes are easy to test and to reuse.
            """),
            code("""
            import matplotlib.pyplot as plt
            import pandas as pd

            weather = pd.read_csv("data/weather.csv")
            wide = weather.pivot(index="month", columns="city", values="temp_c")

            fig, ax = plt.subplots(figsize=(7, 3.5))
            for city in wide.columns:
                ax.plot(wide.index, wide[city], marker="o", label=city)
            ax.set_xlabel("month")
            ax.set_ylabel("temperature (°C)")
            ax.set_title("Monthly mean temperature")
            ax.legend()
            plt.show()
            """),
            md("""
            A bar chart compares amounts. Always label the axes and give a title: a chart
            without labels does not say what it shows.
            """),
            code("""
            madrid = weather[weather["city"] == "Madrid"]
            fig, ax = plt.subplots(figsize=(7, 3))
            ax.bar(madrid["month_name"], madrid["rain_mm"], color="tab:blue")
            ax.set_ylabel("rain (mm)")
            ax.set_title("Rain in Madrid")
            plt.show()
            """),
            md("""
            ## What is in a plot?

            The axes object remembers the data it drew. That is how the autograder checks
            your plots: by their data, not their pixels.
            """),
            code("""
            heights = [int(bar.get_height()) for bar in ax.patches]
            print(heights[:3], ax.get_title(), ax.get_ylabel())
            plt.close("all")
            """),
        ], files=data),
    ]


TRY_IT = {
    "01-numpy-arrays": """
        Make an array of the 28 numbers 1..28, reshape it into 4 weeks, and find the week
        with the largest total. Which weekday column has the smallest sum?
    """,
    "02-dataframes": """
        Add a column `rain_in` with the rain in inches (1 inch is 25.4 mm) and find the
        largest value. Which `dtypes` do the new columns have?
    """,
    "03-selecting-and-filtering": """
        Find all months in which Madrid was warmer than 20 °C **and** had less than 30 mm
        of rain. Sort them from warmest to coolest.
    """,
    "04-grouping": """
        For each city, find the month with the most rain. (Hint: `idxmax` inside a
        `groupby`, or sort and take the first row of each group.)
    """,
    "05-plotting": """
        Draw a grouped comparison: the rain of all three cities as three lines, with a
        legend and labelled axes. Then return the axes from a function, so it can be tested.
    """,
}


def lessons() -> list[Lesson]:
    result = _lessons()
    for lesson in result:
        lesson.try_it = TRY_IT[lesson.slug]
    return result


def assignments() -> list[Assignment]:
    return [
        Assignment("pa01-numpy-steps", "Step counts with NumPy", due_offset_days=7,
                   files={"steps.csv": STEPS_CSV}, cells=[
            md("""
            # Assignment 1: step counts with NumPy

            `steps.csv` holds four weeks of daily step counts, Monday 4 March to Sunday
            31 March. Answer with NumPy, without Python loops. Replace each
            `raise NotImplementedError()` with your code and run the tests below it; some
            tests are hidden and run when you submit.
            """),
            code("""
            import numpy as np
            """),
            md("""
            ## 1. Load the data (2 points)

            Write `load_steps(path)` returning the step counts as a 1-D NumPy array of
            integers. The file has a header line and two columns; you only need the second.
            """),
            solution("load-steps", """
            def load_steps(path):
                ### BEGIN SOLUTION
                return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, dtype=int)
                ### END SOLUTION
            """, [
                "np.loadtxt reads numbers from a text file.",
                "Tell it the separator (delimiter=','), to skip the header (skiprows=1) and which column to use (usecols=1).",
                "np.loadtxt(path, delimiter=',', skiprows=1, usecols=1, dtype=int)",
            ]),
            tests("load-steps-tests", 2, """
            steps = load_steps("steps.csv")
            assert isinstance(steps, np.ndarray), f"load_steps should return a NumPy array, got {type(steps).__name__}"
            assert steps.shape == (28,), f"expected 28 days of steps, got shape {steps.shape}"
            """, """
            assert np.issubdtype(steps.dtype, np.integer), f"step counts are whole numbers; dtype is {steps.dtype}"
            assert steps[0] == 6512 and steps[-1] == 10550, "the first day has 6512 steps and the last 10550"
            """),
            md("""
            ## 2. Weekly totals (3 points)

            Write `weekly_totals(steps)` returning an array with the total steps of each
            full week (the data starts on a Monday). Hint: `reshape`.
            """),
            solution("weekly-totals", """
            def weekly_totals(steps):
                ### BEGIN SOLUTION
                return steps.reshape(-1, 7).sum(axis=1)
                ### END SOLUTION
            """, [
                "Arrange the days as rows of 7, one row per week.",
                "steps.reshape(-1, 7) makes one row per week; -1 lets NumPy work out how many rows.",
                "Then sum along each row: .sum(axis=1)",
            ]),
            tests("weekly-totals-tests", 3, """
            totals = weekly_totals(load_steps("steps.csv"))
            assert len(totals) == 4, f"four weeks should give four totals, got {len(totals)}"
            assert totals[0] == 58711, f"week 1 totals 58711 steps, got {totals[0]}"
            """, """
            assert list(totals) == [58711, 58317, 59817, 61947], f"expected [58711, 58317, 59817, 61947], got {list(totals)}"
            assert list(weekly_totals(np.ones(14, dtype=int))) == [7, 7], "should work for any number of full weeks"
            """),
            md("""
            ## 3. Active days (2 points)

            Write `active_days(steps, goal=10000)` returning how many days reached the goal
            (at least `goal` steps). Use a boolean mask.
            """),
            solution("active-days", """
            def active_days(steps, goal=10000):
                ### BEGIN SOLUTION
                return int((steps >= goal).sum())
                ### END SOLUTION
            """, [
                "steps >= goal gives an array of True/False, one per day.",
                "True counts as 1 when you add: sum the mask.",
                "return int((steps >= goal).sum())",
            ]),
            tests("active-days-tests", 2, """
            steps = load_steps("steps.csv")
            assert active_days(steps) == 7, f"7 days reach 10000 steps, got {active_days(steps)}"
            """, """
            assert active_days(steps, goal=12000) == 3, "3 days reach 12000 steps"
            assert active_days(np.array([10000, 9999])) == 1, "exactly the goal counts as reaching it"
            """),
            md("""
            ## 4. Smoothing (3 points)

            Write `moving_average(values, window)` returning the averages of every run of
            `window` consecutive values: for `[1, 2, 3, 4]` and window 2 that is
            `[1.5, 2.5, 3.5]`. The result has `len(values) - window + 1` elements.
            """),
            solution("moving-average", """
            def moving_average(values, window):
                ### BEGIN SOLUTION
                kernel = np.ones(window) / window
                return np.convolve(values, kernel, mode="valid")
                ### END SOLUTION
            """, [
                "Each result is the mean of values[i:i + window].",
                "np.convolve(values, np.ones(window) / window, mode='valid') computes all of them at once.",
                "Or with cumulative sums: c = np.cumsum(np.insert(values, 0, 0)); (c[window:] - c[:-window]) / window",
            ]),
            tests("moving-average-tests", 3, """
            result = moving_average(np.array([1, 2, 3, 4]), 2)
            assert np.allclose(result, [1.5, 2.5, 3.5]), f"expected [1.5, 2.5, 3.5], got {result}"
            """, """
            week = moving_average(load_steps("steps.csv"), 7)
            assert len(week) == 22, f"28 days with window 7 give 22 averages, got {len(week)}"
            assert np.isclose(week[0], 58711 / 7), f"the first 7-day average is {58711 / 7:.1f}, got {week[0]}"
            assert np.allclose(moving_average(np.array([5.0, 5.0]), 1), [5.0, 5.0]), "window 1 returns the values"
            """),
        ]),
        Assignment("pa02-cafe-sales", "Café sales with pandas", due_offset_days=14,
                   files={"cafe_sales.csv": SALES_CSV}, cells=[
            md("""
            # Assignment 2: a week of café sales

            `cafe_sales.csv` lists what a small café sold each day: the item, its
            category, how many and the price of one. You are the café's analyst.
            """),
            code("""
            import pandas as pd
            """),
            md("""
            ## 1. Load and prepare (3 points)

            Write `load_sales(path)` that reads the CSV, turns `date` into real dates
            (`pd.to_datetime`) and adds a `revenue` column: quantity times unit price.
            """),
            solution("load-sales", """
            def load_sales(path):
                ### BEGIN SOLUTION
                sales = pd.read_csv(path, parse_dates=["date"])
                sales["revenue"] = sales["quantity"] * sales["unit_price"]
                return sales
                ### END SOLUTION
            """, [
                "pd.read_csv(path) gives a DataFrame; parse_dates=['date'] converts the date column.",
                "A new column is an assignment: sales['revenue'] = ...",
                "sales['revenue'] = sales['quantity'] * sales['unit_price']",
            ]),
            tests("load-sales-tests", 3, """
            sales = load_sales("cafe_sales.csv")
            assert isinstance(sales, pd.DataFrame), f"load_sales should return a DataFrame, got {type(sales).__name__}"
            assert "revenue" in sales.columns, f"add a 'revenue' column; the columns are {list(sales.columns)}"
            assert len(sales) == 27, f"the file has 27 sales rows, got {len(sales)}"
            """, """
            assert pd.api.types.is_datetime64_any_dtype(sales["date"]), f"date should be converted to dates, its dtype is {sales['date'].dtype}"
            assert abs(sales["revenue"].iloc[0] - 30.8) < 1e-9, "14 espressos at 2.20 make 30.80 of revenue"
            assert abs(sales["revenue"].sum() - 1360.7) < 1e-6, f"total revenue is 1360.70, got {sales['revenue'].sum():.2f}"
            """),
            md("""
            ## 2. Revenue per category (3 points)

            Write `revenue_by_category(sales)` returning a Series: total revenue per
            category, **highest first**, rounded to 2 decimals.
            """),
            solution("revenue-by-category", """
            def revenue_by_category(sales):
                ### BEGIN SOLUTION
                return sales.groupby("category")["revenue"].sum().sort_values(ascending=False).round(2)
                ### END SOLUTION
            """, [
                "Group the rows by category and add up the revenue of each group.",
                "sales.groupby('category')['revenue'].sum() gives one total per category.",
                "Finish with .sort_values(ascending=False).round(2)",
            ]),
            tests("revenue-by-category-tests", 3, """
            by_cat = revenue_by_category(load_sales("cafe_sales.csv"))
            assert isinstance(by_cat, pd.Series), f"return a Series, got {type(by_cat).__name__}"
            assert list(by_cat.index) == ["coffee", "bakery", "cold drinks"], f"categories should be ordered by revenue, highest first; got {list(by_cat.index)}"
            """, """
            assert by_cat["coffee"] == 720.4, f"coffee brought in 720.40, got {by_cat['coffee']}"
            assert by_cat["cold drinks"] == 221.1, f"cold drinks brought in 221.10, got {by_cat['cold drinks']}"
            """),
            md("""
            ## 3. The busiest day (4 points)

            Write `busiest_weekday(sales)` returning the **name** of the day of the week
            (such as `"Monday"`) with the highest revenue. The `.dt.day_name()` accessor
            gives the name of each date.
            """),
            solution("busiest-weekday", """
            def busiest_weekday(sales):
                ### BEGIN SOLUTION
                by_day = sales.groupby(sales["date"].dt.day_name())["revenue"].sum()
                return by_day.idxmax()
                ### END SOLUTION
            """, [
                "First find each row's weekday name: sales['date'].dt.day_name().",
                "Group the revenue by that weekday name and add it up.",
                "The label of the largest value of a Series is .idxmax().",
            ]),
            tests("busiest-weekday-tests", 4, """
            day = busiest_weekday(load_sales("cafe_sales.csv"))
            assert isinstance(day, str), f"return the weekday's name as a string, got {day!r}"
            assert day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], f"{day!r} is not a weekday name"
            """, """
            assert day == "Saturday", f"Saturday (11 May) had the most revenue; got {day!r}"
            tiny = pd.DataFrame({"date": pd.to_datetime(["2024-05-06", "2024-05-07"]), "revenue": [1.0, 2.0]})
            assert busiest_weekday(tiny) == "Tuesday", "should work on any sales table with date and revenue"
            """),
        ]),
        Assignment("pa03-weather-plots", "Plotting the weather", due_offset_days=21,
                   files={"weather.csv": weather_csv()}, cells=[
            md("""
            # Assignment 3: plotting the weather

            `weather.csv` has the monthly mean temperature and rainfall of three cities.
            Each function draws a plot on new axes and **returns the axes**. The tests check
            what you plotted (the bar heights, the line data, the labels), not how it looks,
            so choose colours and styles freely.
            """),
            code("""
            import matplotlib.pyplot as plt
            import pandas as pd

            weather = pd.read_csv("weather.csv")
            """),
            md("""
            ## 1. Rain in one city (4 points)

            Write `plot_rain(weather, city)`: a **bar chart** of the city's rain for each
            month, in month order, with the month names (`month_name`) on the x axis. Set
            the title to the city's name and the y label to `"rain (mm)"`. Start with
            `fig, ax = plt.subplots()` and return `ax`.
            """),
            solution("plot-rain", """
            def plot_rain(weather, city):
                ### BEGIN SOLUTION
                rows = weather[weather["city"] == city].sort_values("month")
                fig, ax = plt.subplots()
                ax.bar(rows["month_name"], rows["rain_mm"])
                ax.set_title(city)
                ax.set_ylabel("rain (mm)")
                return ax
                ### END SOLUTION
            """, [
                "Select the city's rows first: weather[weather['city'] == city].",
                "ax.bar(x, heights) draws the bars; x can be the month names.",
                "Then ax.set_title(city), ax.set_ylabel('rain (mm)') and return ax.",
            ]),
            tests("plot-rain-tests", 4, """
            ax = plot_rain(weather, "Oslo")
            assert ax is not None and hasattr(ax, "patches"), "plot_rain should return the matplotlib axes (ax)"
            heights = [bar.get_height() for bar in ax.patches]
            assert len(heights) == 12, f"expected 12 bars, one per month; found {len(heights)}"
            assert ax.get_ylabel() == "rain (mm)", f"the y label should be 'rain (mm)', it is {ax.get_ylabel()!r}"
            plt.close("all")
            """, """
            ax = plot_rain(weather, "Madrid")
            heights = [float(bar.get_height()) for bar in ax.patches]
            assert heights == [33, 35, 25, 45, 50, 22, 11, 10, 28, 60, 60, 50], f"Madrid's bars should be its monthly rain in month order, got {heights}"
            assert ax.get_title() == "Madrid", f"the title should be the city, got {ax.get_title()!r}"
            ax.figure.canvas.draw()
            labels = [t.get_text() for t in ax.get_xticklabels()]
            assert labels[:3] == ["Jan", "Feb", "Mar"], f"label the bars with the month names, got {labels[:3]}"
            plt.close("all")
            """),
            md("""
            ## 2. Temperatures compared (4 points)

            Write `plot_temperatures(weather)`: **one line per city** with the month
            (1–12) on the x axis and the temperature on the y axis. Give each line its
            city as `label`, add a legend, and label the y axis `"temperature (°C)"`.
            Return `ax`.
            """),
            solution("plot-temperatures", """
            def plot_temperatures(weather):
                ### BEGIN SOLUTION
                fig, ax = plt.subplots()
                for city, rows in weather.groupby("city"):
                    rows = rows.sort_values("month")
                    ax.plot(rows["month"], rows["temp_c"], label=city)
                ax.set_ylabel("temperature (°C)")
                ax.legend()
                return ax
                ### END SOLUTION
            """, [
                "Loop over the cities (weather.groupby('city') gives each city's rows) and draw one line each.",
                "ax.plot(x, y, label=city) draws one line; ax.legend() shows the labels.",
                "Sort each city's rows by month before plotting so the line runs January to December.",
            ]),
            tests("plot-temperatures-tests", 4, """
            ax = plot_temperatures(weather)
            lines = {line.get_label(): line for line in ax.get_lines()}
            assert len(lines) == 3, f"expected one line per city (3), found labels {sorted(lines)}"
            assert sorted(lines) == ["Amsterdam", "Madrid", "Oslo"], f"label each line with its city, found {sorted(lines)}"
            assert ax.get_legend() is not None, "add a legend with ax.legend()"
            """, """
            oslo = lines["Oslo"]
            assert list(oslo.get_xdata()) == list(range(1, 13)), f"x should be the months 1..12 in order, got {list(oslo.get_xdata())}"
            assert [float(v) for v in oslo.get_ydata()][:3] == [-2.9, -2.8, 0.9], "Oslo's line should start with -2.9, -2.8, 0.9 (January to March)"
            assert max(lines["Madrid"].get_ydata()) == 25.6, "Madrid's warmest month is 25.6 °C"
            assert ax.get_ylabel() == "temperature (°C)", f"the y label should be 'temperature (°C)', it is {ax.get_ylabel()!r}"
            plt.close("all")
            """),
            md("""
            ## 3. Wettest month (2 points)

            Write `wettest_month(weather, city)` returning the `month_name` of the city's
            rainiest month. If two months tie, return the earlier one.
            """),
            solution("wettest-month", """
            def wettest_month(weather, city):
                ### BEGIN SOLUTION
                rows = weather[weather["city"] == city]
                return rows.loc[rows["rain_mm"].idxmax(), "month_name"]
                ### END SOLUTION
            """, [
                "Select the city's rows, then find the row with the most rain.",
                "rows['rain_mm'].idxmax() gives the label (index) of that row.",
                "rows.loc[rows['rain_mm'].idxmax(), 'month_name']",
            ]),
            tests("wettest-month-tests", 2, """
            assert wettest_month(weather, "Amsterdam") == "Aug", f"Amsterdam's wettest month is Aug, got {wettest_month(weather, 'Amsterdam')!r}"
            """, """
            assert wettest_month(weather, "Oslo") == "Aug", "Oslo's wettest month is Aug (88 mm)"
            assert wettest_month(weather, "Madrid") == "Oct", "Madrid has 60 mm in Oct and Nov: the earlier one, Oct, is expected"
            """),
        ]),
    ]
