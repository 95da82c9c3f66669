/* The baseline of instruction counts: a function that does nothing. It sits in its own file so
 * that the compiler cannot inline it into the measurement or see what it returns. */
int tg_return_zero(void);

int tg_return_zero(void)
{
    return 0;
}
