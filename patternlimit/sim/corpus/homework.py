"""A class's homework: the handouts a student pastes around their own work, and what that work is made of.

Pure data. :data:`HANDOUTS` holds each assignment's fixed opening (the course and the task), fixed closing (the
required format), and the frames of a student's own request in between (grammar of :mod:`patternlimit.sim.grammar`);
the other tables are what the student-work generators of :mod:`patternlimit.sim.snippets` choose from.
"""

from __future__ import annotations

# The names a student gives the list's node type, its fields, and their local variables.
C_TYPES = ("struct node", "Node", "struct list_node", "ListNode", "struct item", "node_t")
C_VALUE_FIELDS = ("value", "data", "val", "key")
C_NEXT_FIELDS = ("next", "nxt", "link")
C_LOCALS = ("n", "node", "new_node", "tmp", "p", "fresh")
LIST_FUNCTIONS = ("push_front", "push_back", "pop_front", "find", "reverse", "free_list")
LIST_SYMPTOMS = (
    "segfaults", "crashes with a segmentation fault when the list is empty", "prints the list backwards",
    "loses the last element", "passes my own tests but valgrind reports {number} bytes definitely lost",
    "gets stuck in an infinite loop", "works for one element but not for two",
    "fails test {small} of the autograder", "prints garbage values after the first {small} nodes",
    "compiles with a warning about an incompatible pointer type",
)  # fmt: skip
LIST_CONCEPTS = (
    "why push_front takes a pointer to a pointer", "why pop_front has to save the next node before freeing",
    "what valgrind means by 'definitely lost'", "the difference between the head and the first node",
    "how to reverse the list in place", "when I have to check for NULL", "why my malloc needs a cast or not",
)  # fmt: skip
SQL_QUESTIONS = (
    "B1: the titles of the books that cost more than the average price",
    "B2: the customers who have never placed an order", "B3: each author's number of books and average price",
    "B4: the five best-selling books by total quantity",
    "B5: the customers who bought books by at least three different authors", "B6: the monthly revenue in 2024",
    "B7: the most expensive book of each author", "B8: the cities with more than ten customers, largest first",
)  # fmt: skip
# A student's query: the tables they start from, the columns they may select, and conditions they may filter on
# (their {placeholders} filled by _fill_numbers for each query).
SQL_ATTEMPTS = (
    ("books b JOIN authors a ON a.author_id = b.author_id",
     ("b.title", "a.name", "b.price", "COUNT(*)", "AVG(b.price)", "MAX(b.price)"),
     ("b.price > {number}", "b.published_year >= {year}", "a.country = '{country}'")),
    ("customers c LEFT JOIN orders o ON o.customer_id = c.customer_id",
     ("c.name", "c.city", "COUNT(o.order_id)", "MIN(o.ordered_at)"),
     ("o.order_id IS NULL", "c.city = '{city}'", "o.ordered_at >= '2024-{month}-01'")),
    ("order_items oi JOIN books b ON b.book_id = oi.book_id",
     ("b.title", "SUM(oi.quantity)", "b.price", "SUM(oi.quantity * b.price)"),
     ("oi.quantity > {small}", "b.price < {number}")),
    ("orders o JOIN order_items oi ON oi.order_id = o.order_id JOIN books b ON b.book_id = oi.book_id",
     ("o.customer_id", "COUNT(DISTINCT b.author_id)", "DATE_TRUNC('month', o.ordered_at)", "SUM(b.price)"),
     ("o.ordered_at < '2024-{month}-01'", "b.price BETWEEN {small} AND {number}")),
)  # fmt: skip
SQL_SYMPTOMS = (
    "it returns {number} rows but the expected output has {small}",
    'I get ERROR: column "{column}" must appear in the GROUP BY clause or be used in an aggregate function',
    "the customers without orders are missing", "every book shows up {small} times",
    'I get ERROR: syntax error at or near "{keyword}"', "it runs but the numbers don't match the sample output",
)  # fmt: skip
INDUCTION_CLAIMS = (
    "1 + 3 + 5 + ... + (2n - 1) = n^2 for every n >= 1", "2^n > n^2 for every n >= 5",
    "3 divides n^3 - n for every n >= 0", "1 + 2 + ... + n = n(n + 1)/2 for every n >= 1",
    "F(n) < 2^n for every n >= 0, where F is the Fibonacci sequence", "every integer n >= 2 is a product of primes",
    "n! > 2^n for every n >= 4", "a set with n elements has 2^n subsets",
)  # fmt: skip
CITIES = ("Leeds", "Austin", "Lyon", "Osaka", "Porto", "Denver", "Graz", "Pune", "Quito", "Tartu")

HANDOUTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "CS 201 Lab 5 - Linked lists in C. Implement a singly linked list of ints in linkedlist.c with the functions "
        "push_front, push_back, pop_front, find, reverse and free_list, as declared in linkedlist.h. Every node is "
        "allocated with malloc and every allocation must be freed: the autograder runs the tests under valgrind.",
        "Submission: linkedlist.c only, compiled with gcc -std=c11 -Wall -Wextra without warnings. Do not change "
        "linkedlist.h. You may ask for explanations, but the code you submit must be your own.",
        (
            "[Here is my|This is my|My] {list_function} [so far|attempt|code]:\n```c\n{c_list_code}\n```\n"
            "[It|The program|My code] {list_symptom}. [What am I doing wrong?|Why?|Can you explain what's wrong "
            "without giving me the answer?|I don't get it.|Any hints?]",
            "[I don't understand|Can you explain|I'm confused about|Quick question about] {list_concept}"
            "[?|. My TA explained it but I didn't follow.|.] [This is my|Here's my|My] {list_function}:"
            "\n```c\n{c_list_code}\n```",
            "[Does my|Will my] {list_function} [work|handle the empty list|pass the autograder]? [Right now it|"
            "At the moment it|It] {list_symptom}."
            "\n```c\n{c_list_code}\n```",
        ),
    ),
    (
        "DB 310 Homework 3 - SQL queries. Use the bookstore schema: authors(author_id, name, country), "
        "books(book_id, title, author_id, price, published_year), customers(customer_id, name, city), "
        "orders(order_id, customer_id, ordered_at), order_items(order_id, book_id, quantity). Write one PostgreSQL "
        "query for each question in part B.",
        "Format: one query per question, no views or temporary tables, and a one-sentence explanation of each join. "
        "Queries are checked against the sample output in hw3_expected.txt.",
        (
            "[I'm stuck on|Question|Help with|Working on] {sql_question}. [My query|This is my query|What I have "
            "so far]:\n```sql\n{sql_attempt}\n```\n[When I run it,|Problem:|The issue:] {sql_symptom}. "
            "[What's wrong?|Why?|How do I fix it?|Can you give me a hint?]",
            "{sql_question}: [is this the right way to do it|does this look right|should I use a subquery here "
            "instead]?\n```sql\n{sql_attempt}\n```",
            "[For|On] {sql_question}, {sql_symptom}[.|:]\n```sql\n{sql_attempt}\n```\n[I've been at this for "
            "an hour.|The lecture examples didn't cover this.|]",
        ),
    ),
    (
        "MATH 240 Problem Set 6 - Induction. Prove each statement in part A by mathematical induction. State the "
        "base case, the inductive hypothesis and the inductive step separately, and say where you use the "
        "hypothesis.",
        "Write-up: typeset in LaTeX, one proof per page, in full sentences. Solutions that only check examples "
        "receive no credit.",
        (
            "[Problem|Exercise|Stuck on problem] A{small}: prove that {induction_claim}.\n[My attempt|What I "
            "have|My proof so far]: [Base case|For the base case]: [I checked|I plugged in|I tried] n = "
            "{base_case} [and both sides are equal|and it works|and it holds]. [Inductive step|Induction step]: "
            "[assume|suppose] it holds for some k >= {base_case}[ and show it for k + 1| and look at k + 1|]. "
            "[Then|So|Now] I [rewrote|expanded] the k + 1 case as (k + 1)^{power} + {coefficient}k [and got "
            "stuck|but I can't see where to use the hypothesis|and I'm not sure how to finish].\n[Is my base "
            "case right?|Where should I use the induction hypothesis?|Is this strong induction or normal "
            "induction?|Can you give me a hint for the inductive step without solving it?|Did I prove it or just "
            "check examples?]",
            "[I don't get|Can you explain|Help me understand] the inductive step in A{small}, {induction_claim}. "
            "[I checked n = 1 to|I tried every n up to|It works for every n up to] {count} [by hand|on paper|in "
            "Python], [but I can't write the proof.|so it must be true, right?|but my TA says that isn't a "
            "proof.]",
        ),
    ),
    (
        "BUS 105 Business Communication - Assignment 2. Write a memo paragraph announcing one decision from this "
        "week's case study to employees who missed the meeting. Use plain English, put the decision in the first "
        "sentence, and avoid jargon and the passive voice.",
        "Hand in: 150 words at most, as a .docx file, with a one-line subject. Do not use bullet points.",
        (
            "[My draft|Here is my draft|Draft|This is what I wrote]:\n\n{paragraph}\n\n[Is it clear enough?|"
            "What is still unclear?|Did I put the decision first?|How can I make the first sentence stronger?|"
            "Is this too long?|Is the tone right for staff?]",
            "[Can you give me feedback on|Please review|What grade would this get for] my memo[?|:|]\n\n{paragraph}",
        ),
    ),
)
